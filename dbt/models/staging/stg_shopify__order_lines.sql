with

current_order_rows as (

    {{ select_current_shopify_order_rows() }}

),

fx_rates as (

    {{ select_current_fx_rates() }}

),

-- Currency and creation date live on the order's first line row only.
orders as (

    select
        order_id,
        upper(trim("Currency")) as currency,
        {{ parse_offset_timestamp_as_utc('"Created at"') }} as created_at

    from current_order_rows
    where order_line_number = 1

),

order_rates as (

    select
        orders.order_id,
        orders.currency,
        {{ usd_per_unit_for('orders.currency', 'fx_rates.usd_per_unit') }} as usd_per_unit

    from orders
    asof left join fx_rates
        on orders.currency = fx_rates.currency
        and cast(orders.created_at as date) >= fx_rates.rate_date

),

lines as (

    select
        order_id,
        order_line_number as line_number,
        cast("Lineitem quantity" as integer) as quantity,
        "Lineitem name" as product_name,
        {{ parse_amount('"Lineitem price"') }} as unit_price,
        {{ clean_whitespace('"Lineitem sku"') }} as sku,
        _extract_date as extract_date,
        _source_file as source_file,
        _line_number as source_line_number

    from current_order_rows

),

final as (

    select
        lines.order_id || '-' || lines.line_number as order_line_id,
        lines.order_id,
        lines.line_number,
        lines.quantity,
        lines.product_name,
        lines.sku,
        order_rates.currency,
        lines.unit_price,
        cast(lines.quantity * lines.unit_price as decimal(18, 4)) as line_amount,
        {{ convert_to_usd('lines.quantity * lines.unit_price', 'order_rates.usd_per_unit') }} as line_amount_usd,
        lines.extract_date,
        lines.source_file,
        lines.source_line_number

    from lines
    inner join order_rates
        on lines.order_id = order_rates.order_id

)

select * from final
