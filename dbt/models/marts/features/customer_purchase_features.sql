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

order_states as (

    select * from {{ ref('int_customer_order_states') }}

),

-- Orders placed in each window as their state was known at the end of the snapshot date: an
-- order cancelled by then does not count, the refund known by then is subtracted. (Differences of
-- running totals would book a late cancellation in the window it arrived in, not the one the
-- order was placed in.)
orders_as_of as (

    select
        as_of.customer_id,
        as_of.snapshot_date,
        order_states.placed_on,
        order_states.cancelled_known_on is null or order_states.cancelled_known_on > as_of.snapshot_date as is_counted,
        case
            when order_states.cancelled_known_on <= as_of.snapshot_date then 0
            else order_states.gross_usd - coalesce(list_filter(
                order_states.refund_steps, lambda step: step.known_on <= as_of.snapshot_date
            )[-1].refunded_usd, 0)
        end as net_usd
    from as_of
    inner join order_states
        on order_states.customer_id = as_of.customer_id
        and order_states.known_on <= as_of.snapshot_date
        and order_states.placed_on > as_of.snapshot_date - 365

),

windows as (

    select
        customer_id,
        snapshot_date,
        {%- for days in [30, 90, 365] %}
        count(*) filter (where is_counted and placed_on > snapshot_date - {{ days }}) as orders_{{ days }}d,
        coalesce(sum(net_usd) filter (where placed_on > snapshot_date - {{ days }}), 0) as net_revenue_usd_{{ days }}d
        {{- "," if not loop.last }}
        {%- endfor %}
    from orders_as_of
    group by customer_id, snapshot_date

),

windowed as (

    select
        as_of.*,
        coalesce(windows.orders_30d, 0) as orders_30d,
        coalesce(windows.orders_90d, 0) as orders_90d,
        coalesce(windows.orders_365d, 0) as orders_365d,
        coalesce(windows.net_revenue_usd_30d, 0) as net_revenue_usd_30d,
        coalesce(windows.net_revenue_usd_90d, 0) as net_revenue_usd_90d,
        coalesce(windows.net_revenue_usd_365d, 0) as net_revenue_usd_365d
    from as_of
    left join windows
        on windows.customer_id = as_of.customer_id and windows.snapshot_date = as_of.snapshot_date

),

candidates as (

    select
        customer_id,
        snapshot_date,
        cast(snapshot_date + interval 1 day as timestamp) as event_timestamp,
        orders_30d,
        orders_90d,
        orders_365d,
        cumulative_orders as orders_lifetime,
        cast(round(net_revenue_usd_30d, 4) as double) as net_revenue_usd_30d,
        cast(round(net_revenue_usd_90d, 4) as double) as net_revenue_usd_90d,
        cast(round(net_revenue_usd_365d, 4) as double) as net_revenue_usd_365d,
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

{{ keep_changed_feature_rows('hashed', 'purchase_days') }}

select * from changed
