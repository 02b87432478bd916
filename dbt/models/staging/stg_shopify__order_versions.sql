-- One row per order per extract date that delivered it: whether it was cancelled and how much of
-- it was refunded, as the export of that day said (the latest file holding an order is its
-- current version). Features read when a cancellation or a refund became known from here; the
-- current order is stg_shopify__orders.
with

order_rows as (

    select
        cast("Id" as bigint) as order_id,
        _extract_date as extract_date,
        {{ parse_offset_timestamp_as_utc('"Cancelled at"') }} as cancelled_at,
        {{ parse_amount('"Total"') }} as total_amount,
        {{ parse_amount('"Refunded Amount"') }} as refunded_amount,
        _line_number as source_line_number

    from {{ source('raw', 'ecommerce_orders') }}

),

-- Order-level columns are filled only on an order's first line row in a file.
first_rows as (

    select *
    from order_rows
    qualify row_number() over (partition by order_id, extract_date order by source_line_number) = 1

),

final as (

    select
        order_id,
        extract_date,
        cancelled_at is not null as is_cancelled,
        coalesce(refunded_amount, 0) as refunded_amount,
        -- Currency-free, so the fact's USD total converts it at the order's own rate.
        case when total_amount > 0 then least(coalesce(refunded_amount, 0) / total_amount, 1) else 0 end as refunded_share

    from first_rows

)

select * from final
