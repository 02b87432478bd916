-- One row per customer order (staff test orders are not customer orders and stay out), amounts in
-- the order's currency and in USD at the rate of its creation date.
with

orders as (

    select * from {{ ref('stg_shopify__orders') }}
    where not is_test_order

),

identity_map as (

    select record_id, customer_id from {{ ref('customer_identity_map') }}
    where source = 'shopify_order'

),

final as (

    select
        orders.order_id,
        orders.order_name,
        identity_map.customer_id,
        orders.created_at,
        orders.paid_at,
        orders.cancelled_at,
        orders.financial_status,
        orders.fulfillment_status,
        orders.source_channel,
        orders.accepts_marketing,
        orders.discount_code,
        orders.currency,
        orders.subtotal_amount,
        orders.shipping_amount,
        orders.tax_amount,
        orders.discount_amount,
        orders.total_amount,
        orders.refunded_amount,
        orders.subtotal_amount_usd,
        orders.shipping_amount_usd,
        orders.tax_amount_usd,
        orders.discount_amount_usd,
        orders.total_amount_usd,
        orders.refunded_amount_usd,
        orders.total_amount_usd - orders.refunded_amount_usd as net_amount_usd,
        orders.cancelled_at is not null as is_cancelled,
        orders.line_count,
        orders.extract_date

    from orders
    left join identity_map
        on identity_map.record_id = 'shopify_order:' || cast(orders.order_id as varchar)

)

select * from final
