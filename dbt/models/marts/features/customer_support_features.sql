-- Support experience per customer per snapshot date, stored as change points: a row on each day a
-- customer's values changed (a ticket created or updated, or leaving the 30/90-day window). Mean
-- resolution time is derived on demand in Feast from the stored totals.
{{ config(unique_key=['customer_id', 'snapshot_date']) }}
with

support_days as (

    select * from {{ ref('int_customer_support_days') }}

),

{{ feature_candidates_as_of('support_days', [30, 90]) }},

windowed as (

    select
        as_of.*,
        coalesce(before_30d.cumulative_tickets, 0) as tickets_before_30d,
        coalesce(before_90d.cumulative_tickets, 0) as tickets_before_90d,
        coalesce(before_90d.cumulative_urgent_tickets, 0) as urgent_tickets_before_90d,
        coalesce(before_90d.cumulative_reopens, 0) as reopens_before_90d,
        coalesce(before_90d.cumulative_bad_ratings, 0) as bad_ratings_before_90d
    from as_of
    asof left join support_days as before_30d
        on before_30d.customer_id = as_of.customer_id and as_of.window_30d_before >= before_30d.known_on
    asof left join support_days as before_90d
        on before_90d.customer_id = as_of.customer_id and as_of.window_90d_before >= before_90d.known_on

),

candidates as (

    select
        customer_id,
        snapshot_date,
        cast(snapshot_date + interval 1 day as timestamp) as event_timestamp,
        cumulative_tickets - tickets_before_30d as tickets_30d,
        cumulative_tickets - tickets_before_90d as tickets_90d,
        cumulative_tickets as tickets_lifetime,
        open_tickets,
        cumulative_urgent_tickets - urgent_tickets_before_90d as urgent_tickets_90d,
        cumulative_bad_ratings - bad_ratings_before_90d as bad_ratings_90d,
        cumulative_reopens - reopens_before_90d as reopens_90d,
        cumulative_resolved_tickets as resolved_tickets_lifetime,
        cumulative_resolution_minutes as resolution_minutes_lifetime,
        last_ticket_at
    from windowed

),

hashed as (

    select *, md5(cast(row(*columns(* exclude (customer_id, snapshot_date, event_timestamp))) as varchar)) as feature_hash
    from candidates

),

{{ keep_changed_feature_rows('hashed', 'support_days') }}

select * from changed
