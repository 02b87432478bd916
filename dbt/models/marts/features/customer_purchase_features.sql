-- Purchase behaviour per customer per snapshot date, stored as change points: a row on each day a
-- customer's values changed (an order, a refund or cancellation becoming known, an order leaving
-- the 30/90/365-day window). A nightly run appends the new day's changed rows and leaves history
-- alone. Recency and ratios are derived on demand in Feast from the stored timestamps and totals.
{{ config(unique_key=['customer_id', 'snapshot_date']) }}
with

purchase_days as (

    select * from {{ ref('int_customer_purchase_days') }}

),

{{ feature_candidates_as_of('purchase_days', [30, 90, 365]) }},

-- Totals at the end of the day before each window opened; none means the window holds everything.
windowed as (

    select
        as_of.*,
        coalesce(before_30d.cumulative_orders, 0) as orders_before_30d,
        coalesce(before_90d.cumulative_orders, 0) as orders_before_90d,
        coalesce(before_365d.cumulative_orders, 0) as orders_before_365d,
        coalesce(before_30d.cumulative_gross_usd - before_30d.cumulative_refunded_usd, 0) as net_before_30d,
        coalesce(before_90d.cumulative_gross_usd - before_90d.cumulative_refunded_usd, 0) as net_before_90d,
        coalesce(before_365d.cumulative_gross_usd - before_365d.cumulative_refunded_usd, 0) as net_before_365d
    from as_of
    asof left join purchase_days as before_30d
        on before_30d.customer_id = as_of.customer_id and as_of.window_30d_before >= before_30d.known_on
    asof left join purchase_days as before_90d
        on before_90d.customer_id = as_of.customer_id and as_of.window_90d_before >= before_90d.known_on
    asof left join purchase_days as before_365d
        on before_365d.customer_id = as_of.customer_id and as_of.window_365d_before >= before_365d.known_on

),

candidates as (

    select
        customer_id,
        snapshot_date,
        cast(snapshot_date + interval 1 day as timestamp) as event_timestamp,
        cumulative_orders - orders_before_30d as orders_30d,
        cumulative_orders - orders_before_90d as orders_90d,
        cumulative_orders - orders_before_365d as orders_365d,
        cumulative_orders as orders_lifetime,
        round(cumulative_gross_usd - cumulative_refunded_usd - net_before_30d, 4) as net_revenue_usd_30d,
        round(cumulative_gross_usd - cumulative_refunded_usd - net_before_90d, 4) as net_revenue_usd_90d,
        round(cumulative_gross_usd - cumulative_refunded_usd - net_before_365d, 4) as net_revenue_usd_365d,
        round(cumulative_gross_usd - cumulative_refunded_usd, 4) as net_revenue_usd_lifetime,
        round(cumulative_gross_usd, 4) as gross_revenue_usd_lifetime,
        round(cumulative_refunded_usd, 4) as refunded_usd_lifetime,
        round(cumulative_discount_usd, 4) as discount_usd_lifetime,
        cumulative_web_orders as web_orders_lifetime,
        cumulative_pos_orders as pos_orders_lifetime,
        cumulative_app_orders as app_orders_lifetime,
        first_order_at,
        last_order_at,
        case when cumulative_category_spend[1].spend_usd > 0 then cumulative_category_spend[1].category end as favorite_category,
        round(cumulative_category_spend[1].spend_usd
            / nullif(list_sum(list_transform(cumulative_category_spend, lambda pair: pair.spend_usd)), 0), 4) as favorite_category_spend_share,
        len(list_filter(cumulative_category_spend, lambda pair: pair.spend_usd > 0)) as categories_purchased
    from windowed

),

hashed as (

    select *, md5(cast(row(*columns(* exclude (customer_id, snapshot_date, event_timestamp))) as varchar)) as feature_hash
    from candidates

),

{{ keep_changed_feature_rows('hashed') }}

select * from changed
