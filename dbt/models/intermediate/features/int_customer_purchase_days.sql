-- One row per customer per day on which their purchase history changed as it was known then, with
-- running totals since their first order: the lifetime figures of the purchase features (their
-- 30/90/365-day windows read each order's state from int_customer_order_states instead).
-- An order counts from the day the first export carrying it arrived (normally the day it was
-- placed); a refund or a cancellation from the extract date of the export that delivered it (the
-- shop's exports carry no refund time), so no snapshot uses anything that arrived after its day.
{%- set categories_query -%}
    select distinct category from {{ ref('product_categories') }} order by category
{%- endset -%}
{%- set categories = run_query(categories_query).columns[0].values() if execute else [] %}
with

orders as (

    select * from {{ ref('int_customer_order_states') }}

),

categories as (

    select * from {{ ref('product_categories') }}

),

order_lines as (

    select
        order_lines.order_id,
        coalesce(categories.category, 'Uncategorized') as category,
        order_lines.line_amount_usd
    from {{ ref('fct_order_lines') }} as order_lines
    left join categories
        on categories.sku_prefix = upper(split_part(order_lines.sku, '-', 1))
    where order_lines.customer_id is not null

),

order_category_spend as (

    select
        order_id,
        {%- for category in categories %}
        coalesce(sum(line_amount_usd) filter (where category = '{{ category }}'), 0) as spend_{{ category | lower }}_usd,
        {%- endfor %}
        coalesce(sum(line_amount_usd) filter (where category = 'Uncategorized'), 0) as spend_uncategorized_usd

    from order_lines
    group by order_id

),

placed as (

    select
        orders.customer_id,
        orders.known_on,
        1 as orders,
        orders.gross_usd,
        orders.discount_usd,
        0 as refunded_usd,
        case when orders.source_channel = 'web' then 1 else 0 end as web_orders,
        case when orders.source_channel = 'pos' then 1 else 0 end as pos_orders,
        case when orders.source_channel in ('iphone', 'android') then 1 else 0 end as app_orders,
        orders.placed_at,
        {%- for category in categories %}
        coalesce(spend.spend_{{ category | lower }}_usd, 0) as spend_{{ category | lower }}_usd,
        {%- endfor %}
        coalesce(spend.spend_uncategorized_usd, 0) as spend_uncategorized_usd

    from orders
    left join order_category_spend as spend on spend.order_id = orders.order_id

),

-- A cancelled order stops counting at all (count, revenue, channel) from the day that was known.
cancelled as (

    select
        customer_id,
        cancelled_known_on as known_on,
        -1 as orders,
        -gross_usd as gross_usd,
        -discount_usd as discount_usd,
        0 as refunded_usd,
        case when source_channel = 'web' then -1 else 0 end as web_orders,
        case when source_channel = 'pos' then -1 else 0 end as pos_orders,
        case when source_channel in ('iphone', 'android') then -1 else 0 end as app_orders,
        cast(null as timestamp) as placed_at,
        {%- for category in categories %}
        0 as spend_{{ category | lower }}_usd,
        {%- endfor %}
        0 as spend_uncategorized_usd

    from orders
    where cancelled_known_on is not null

),

-- Each step of a refund lowers net revenue by what it added, from the day it was known.
refund_steps as (

    select
        customer_id,
        order_id,
        unnest(refund_steps, recursive := true)

    from orders

),

refunded as (

    select
        customer_id,
        known_on,
        0 as orders,
        0 as gross_usd,
        0 as discount_usd,
        refunded_usd - coalesce(lag(refunded_usd) over (partition by order_id order by known_on), 0) as refunded_usd,
        0 as web_orders,
        0 as pos_orders,
        0 as app_orders,
        cast(null as timestamp) as placed_at,
        {%- for category in categories %}
        0 as spend_{{ category | lower }}_usd,
        {%- endfor %}
        0 as spend_uncategorized_usd

    from refund_steps

),

daily as (

    select
        customer_id,
        known_on,
        sum(orders) as orders,
        sum(gross_usd) as gross_usd,
        sum(discount_usd) as discount_usd,
        sum(refunded_usd) as refunded_usd,
        sum(web_orders) as web_orders,
        sum(pos_orders) as pos_orders,
        sum(app_orders) as app_orders,
        min(placed_at) as first_placed_at,
        max(placed_at) as last_placed_at,
        {%- for category in categories %}
        sum(spend_{{ category | lower }}_usd) as spend_{{ category | lower }}_usd,
        {%- endfor %}
        sum(spend_uncategorized_usd) as spend_uncategorized_usd

    from (select * from placed union all by name select * from cancelled union all by name select * from refunded)
    group by customer_id, known_on

),

final as (

    select
        customer_id,
        known_on,
        cast(sum(orders) over running as bigint) as cumulative_orders,
        cast(sum(gross_usd) over running as double) as cumulative_gross_usd,
        cast(sum(discount_usd) over running as double) as cumulative_discount_usd,
        cast(sum(refunded_usd) over running as double) as cumulative_refunded_usd,
        cast(sum(web_orders) over running as bigint) as cumulative_web_orders,
        cast(sum(pos_orders) over running as bigint) as cumulative_pos_orders,
        cast(sum(app_orders) over running as bigint) as cumulative_app_orders,
        min(first_placed_at) over running as first_order_at,
        max(last_placed_at) over running as last_order_at,
        -- Lifetime spend by category, as (spend, category) pairs sorted by spend: the first is the
        -- favourite (ties broken by name).
        list_sort([
            {%- for category in categories %}
            {'spend_usd': cast(sum(spend_{{ category | lower }}_usd) over running as double), 'category': '{{ category }}'},
            {%- endfor %}
            {'spend_usd': cast(sum(spend_uncategorized_usd) over running as double), 'category': 'Uncategorized'}
        ], 'DESC') as cumulative_category_spend

    from daily
    window running as (partition by customer_id order by known_on rows between unbounded preceding and current row)

)

select * from final
