-- One row per customer per day on which email events about them became known (the extract date
-- they arrived in: webhooks arrive up to three days late), with running totals per event kind and
-- the latest human open and click known by then.
with

events as (

    select * from {{ ref('fct_email_events') }}
    where customer_id is not null

),

daily as (

    select
        customer_id,
        received_date as known_on,
        count(*) filter (where event_type = 'delivered') as deliveries,
        count(*) filter (where is_human_open) as human_opens,
        count(*) filter (where event_type = 'click') as clicks,
        count(*) filter (where event_type in ('bounce', 'dropped')) as bounces,
        count(*) filter (where event_type in ('unsubscribe', 'group_unsubscribe')) as unsubscribes,
        count(*) filter (where event_type = 'spamreport') as spam_reports,
        max(event_at) filter (where is_human_open) as last_human_open_at,
        max(event_at) filter (where event_type = 'click') as last_click_at

    from events
    group by customer_id, received_date

),

final as (

    select
        customer_id,
        known_on,
        cast(sum(deliveries) over running as bigint) as cumulative_deliveries,
        cast(sum(human_opens) over running as bigint) as cumulative_human_opens,
        cast(sum(clicks) over running as bigint) as cumulative_clicks,
        cast(sum(bounces) over running as bigint) as cumulative_bounces,
        cast(sum(unsubscribes) over running as bigint) as cumulative_unsubscribes,
        cast(sum(spam_reports) over running as bigint) as cumulative_spam_reports,
        max(last_human_open_at) over running as last_human_open_at,
        max(last_click_at) over running as last_click_at

    from daily
    window running as (partition by customer_id order by known_on rows between unbounded preceding and current row)

)

select * from final
