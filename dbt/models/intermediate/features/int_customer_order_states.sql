-- One row per order of a resolved customer: when it was placed, its amounts, and the days its
-- cancellation and refund became known. A cancellation or refund is known from the extract date of
-- the export that delivered it (the shop's exports carry no refund time). Purchase features read
-- an order's state as of each snapshot date from here, so an order cancelled months after it was
-- placed leaves the windows it was placed in, not the windows the cancellation falls in.
with

orders as (

    select * from {{ ref('fct_orders') }}
    where customer_id is not null

),

final as (

    select
        order_id,
        customer_id,
        created_at as placed_at,
        cast(created_at as date) as placed_on,
        source_channel,
        total_amount_usd as gross_usd,
        discount_amount_usd as discount_usd,
        case when is_cancelled then greatest(extract_date, cast(created_at as date)) end as cancelled_known_on,
        -- A cancelled order stops counting altogether, so its refund is not subtracted again.
        case when not is_cancelled then refunded_amount_usd else 0 end as refunded_usd,
        case when not is_cancelled and refunded_amount_usd > 0 then greatest(extract_date, cast(created_at as date)) end as refund_known_on

    from orders

)

select * from final
