-- One row per order of a resolved customer: when it was placed, its amounts, the day its
-- cancellation became known and the steps of its refund as they became known (each export that
-- changed the refunded amount is a step). Purchase features read an order's state as of each
-- snapshot date from here, so an order cancelled months after it was placed leaves the windows it
-- was placed in, not the windows the cancellation falls in, and a full rebuild knows each change
-- from the export that first carried it, as the nightly runs did.
with

orders as (

    select * from {{ ref('fct_orders') }}
    where customer_id is not null

),

versions as (

    select * from {{ ref('stg_shopify__order_versions') }}

),

history as (

    select
        order_id,
        min(extract_date) as first_exported_on,
        -- Shopify cannot un-cancel an order: the first export that says cancelled is when it was known.
        min(extract_date) filter (where is_cancelled) as cancelled_on,
        list(struct_pack(extract_date, refunded_share) order by extract_date) filter (where not is_cancelled) as refund_history

    from versions
    group by order_id

),

final as (

    select
        orders.order_id,
        orders.customer_id,
        orders.created_at as placed_at,
        cast(orders.created_at as date) as placed_on,
        -- An order counts from the end of the day of the first export that carried it.
        greatest(coalesce(history.first_exported_on, orders.extract_date), cast(orders.created_at as date)) as known_on,
        orders.source_channel,
        orders.total_amount_usd as gross_usd,
        orders.discount_amount_usd as discount_usd,
        case when orders.is_cancelled then greatest(coalesce(history.cancelled_on, orders.extract_date), cast(orders.created_at as date)) end
            as cancelled_known_on,
        -- The refunded amount in USD from each export that changed it (a cancelled order stops
        -- counting altogether, so its refunds are not subtracted again).
        case when not orders.is_cancelled then list_transform(
            list_filter(
                history.refund_history,
                lambda step, position: position = 1 and step.refunded_share > 0
                    or (position > 1 and step.refunded_share <> history.refund_history[position - 1].refunded_share)
            ),
            lambda step: struct_pack(
                known_on := greatest(step.extract_date, cast(orders.created_at as date)),
                refunded_usd := round(orders.total_amount_usd * step.refunded_share, 4)
            )
        ) else [] end as refund_steps

    from orders
    left join history on history.order_id = orders.order_id

)

select * from final
