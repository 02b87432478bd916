-- One row per line item of a customer order.
with

order_lines as (

    select * from {{ ref('stg_shopify__order_lines') }}

),

orders as (

    select order_id, customer_id, created_at from {{ ref('fct_orders') }}

),

final as (

    select
        order_lines.order_line_id,
        order_lines.order_id,
        orders.customer_id,
        orders.created_at as order_created_at,
        order_lines.line_number,
        order_lines.sku,
        order_lines.product_name,
        order_lines.quantity,
        order_lines.currency,
        order_lines.unit_price,
        order_lines.line_amount,
        order_lines.line_amount_usd

    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id

)

select * from final
