{#- Current-version selections shared by more than one staging model. Staging reads only
    sources, so a staging model that needs another source's current rows (orders need FX rates,
    orders and order lines need the same current order rows) selects them through these macros
    instead of ref()-ing a sibling staging model. -#}

{#- One row per currency per rate date; a re-delivered date/currency: the latest extract wins -#}
{% macro select_current_fx_rates() -%}
    select
        cast(trim("date") as date) as rate_date,
        upper(trim(currency)) as currency,
        cast(usd_per_unit as decimal(18, 10)) as usd_per_unit,
        _extract_date as extract_date,
        _source_file as source_file,
        _line_number as source_line_number
    from {{ source('raw', 'ecommerce_fx_rates') }}
    qualify row_number() over (
        partition by cast(trim("date") as date), upper(trim(currency))
        order by _extract_date desc, _line_number desc
    ) = 1
{%- endmacro %}

{#- The line rows of each order's current version (its rows in the latest file that holds it),
    numbered 1..n in file order. Row 1 carries the order-level columns. -#}
{% macro select_current_shopify_order_rows() -%}
    select
        cast("Id" as bigint) as order_id,
        row_number() over (partition by cast("Id" as bigint) order by _line_number) as order_line_number,
        *
    from (
        select *
        from {{ source('raw', 'ecommerce_orders') }}
        qualify _extract_date = max(_extract_date) over (partition by cast("Id" as bigint))
    )
{%- endmacro %}

{#- Amount in USD at a rate in USD per unit; widened first so large amounts cannot overflow -#}
{% macro convert_to_usd(amount, usd_per_unit) -%}
    cast(cast({{ amount }} as decimal(38, 4)) * {{ usd_per_unit }} as decimal(18, 4))
{%- endmacro %}

{#- The rate of an order currency: USD is 1 by definition, others come from the as-of FX join -#}
{% macro usd_per_unit_for(currency, joined_rate) -%}
    case when {{ currency }} = 'USD' then 1.0 else {{ joined_rate }} end
{%- endmacro %}
