-- Email engagement per customer per snapshot date, stored as change points: a row on each day a
-- customer's values changed (events became known, or left the 30/90-day window). Human opens
-- exclude machine opens (mail-privacy proxies). Campaign mail is also counted since the customer's
-- last order (a row on each day an order became known restarts it). Click-through rate, open rates
-- and days since the last click are derived on demand in Feast.
{{ config(unique_key=['customer_id', 'snapshot_date']) }}
with

email_days as (

    select * from {{ ref('int_customer_email_days') }}

),

{{ feature_candidates_as_of('email_days', [30, 90]) }},

windowed as (

    select
        as_of.*,
        coalesce(before_30d.cumulative_deliveries, 0) as deliveries_before_30d,
        coalesce(before_90d.cumulative_deliveries, 0) as deliveries_before_90d,
        coalesce(before_30d.cumulative_human_opens, 0) as human_opens_before_30d,
        coalesce(before_90d.cumulative_human_opens, 0) as human_opens_before_90d,
        coalesce(before_30d.cumulative_clicks, 0) as clicks_before_30d,
        coalesce(before_90d.cumulative_clicks, 0) as clicks_before_90d,
        coalesce(before_90d.cumulative_bounces, 0) as bounces_before_90d
    from as_of
    asof left join email_days as before_30d
        on before_30d.customer_id = as_of.customer_id and as_of.window_30d_before >= before_30d.known_on
    asof left join email_days as before_90d
        on before_90d.customer_id = as_of.customer_id and as_of.window_90d_before >= before_90d.known_on

),

candidates as (

    select
        customer_id,
        snapshot_date,
        cast(snapshot_date + interval 1 day as timestamp) as event_timestamp,
        cumulative_deliveries - deliveries_before_30d as deliveries_30d,
        cumulative_deliveries - deliveries_before_90d as deliveries_90d,
        cumulative_human_opens - human_opens_before_30d as human_opens_30d,
        cumulative_human_opens - human_opens_before_90d as human_opens_90d,
        cumulative_clicks - clicks_before_30d as clicks_30d,
        cumulative_clicks - clicks_before_90d as clicks_90d,
        cumulative_bounces - bounces_before_90d as bounces_90d,
        cumulative_unsubscribes as unsubscribes_lifetime,
        cumulative_spam_reports as spam_reports_lifetime,
        cumulative_campaign_deliveries as campaign_deliveries_lifetime,
        cumulative_campaign_human_opens as campaign_human_opens_lifetime,
        cumulative_campaign_deliveries - campaign_deliveries_at_last_order as campaign_deliveries_since_last_order,
        cumulative_campaign_human_opens - campaign_human_opens_at_last_order as campaign_human_opens_since_last_order,
        last_human_open_at,
        last_click_at
    from windowed

),

hashed as (

    select *, md5(cast(row(*columns(* exclude (customer_id, snapshot_date, event_timestamp))) as varchar)) as feature_hash
    from candidates

),

{{ keep_changed_feature_rows('hashed', 'email_days') }}

select * from changed
