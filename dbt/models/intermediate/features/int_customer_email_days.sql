-- One row per customer per day on which email events about them became known (the extract date
-- they arrived in: webhooks arrive up to three days late), with running totals per event kind and
-- the latest human open and click known by then. Once a customer has email events, a day on which
-- one of their orders became known gets a row too: campaign mail counts restart "since the last
-- order" there. Whether someone still opens the shop's campaigns after their last purchase, at the
-- rate they opened them before, is the clearest sign in the exports that they have not lapsed.
with

events as (

    select * from {{ ref('fct_email_events') }}
    where customer_id is not null

),

orders as (

    select * from {{ ref('int_customer_order_states') }}

),

daily as (

    select
        customer_id,
        received_date as known_on,
        count(*) filter (where event_type = 'delivered') as deliveries,
        count(*) filter (where is_human_open) as human_opens,
        -- Campaign mail (SendGrid's marketing_campaign_id): order confirmations follow an order, so
        -- they would say nothing about the time after it.
        count(*) filter (where event_type = 'delivered' and marketing_campaign_id is not null) as campaign_deliveries,
        count(*) filter (where is_human_open and marketing_campaign_id is not null) as campaign_human_opens,
        count(*) filter (where event_type = 'click') as clicks,
        count(*) filter (where event_type in ('bounce', 'dropped')) as bounces,
        count(*) filter (where event_type in ('unsubscribe', 'group_unsubscribe')) as unsubscribes,
        count(*) filter (where event_type = 'spamreport') as spam_reports,
        max(event_at) filter (where is_human_open) as last_human_open_at,
        max(event_at) filter (where event_type = 'click') as last_click_at

    from events
    group by customer_id, received_date

),

-- Days an order became known, from the customer's first email day on (before it, a customer has no
-- email features at all). An order cancelled later still shows the customer was there.
order_days as (

    select orders.customer_id, orders.known_on, true as has_order
    from orders
    inner join (select customer_id, min(known_on) as first_email_day from daily group by customer_id) as first_email
        on first_email.customer_id = orders.customer_id and orders.known_on >= first_email.first_email_day
    group by orders.customer_id, orders.known_on

),

days as (

    select
        customer_id,
        known_on,
        coalesce(daily.deliveries, 0) as deliveries,
        coalesce(daily.human_opens, 0) as human_opens,
        coalesce(daily.campaign_deliveries, 0) as campaign_deliveries,
        coalesce(daily.campaign_human_opens, 0) as campaign_human_opens,
        coalesce(daily.clicks, 0) as clicks,
        coalesce(daily.bounces, 0) as bounces,
        coalesce(daily.unsubscribes, 0) as unsubscribes,
        coalesce(daily.spam_reports, 0) as spam_reports,
        daily.last_human_open_at,
        daily.last_click_at,
        coalesce(order_days.has_order, false) as has_order

    from daily
    full outer join order_days using (customer_id, known_on)

),

running as (

    select
        customer_id,
        known_on,
        has_order,
        cast(sum(deliveries) over running as bigint) as cumulative_deliveries,
        cast(sum(human_opens) over running as bigint) as cumulative_human_opens,
        cast(sum(campaign_deliveries) over running as bigint) as cumulative_campaign_deliveries,
        cast(sum(campaign_human_opens) over running as bigint) as cumulative_campaign_human_opens,
        cast(sum(clicks) over running as bigint) as cumulative_clicks,
        cast(sum(bounces) over running as bigint) as cumulative_bounces,
        cast(sum(unsubscribes) over running as bigint) as cumulative_unsubscribes,
        cast(sum(spam_reports) over running as bigint) as cumulative_spam_reports,
        max(last_human_open_at) over running as last_human_open_at,
        max(last_click_at) over running as last_click_at,
        -- Totals before the day the order became known: that day's mail counts as after it (the
        -- exports give the order's time but not which of the day's late webhooks came before it).
        cast(sum(campaign_deliveries) over running - campaign_deliveries as bigint) as campaign_deliveries_before_day,
        cast(sum(campaign_human_opens) over running - campaign_human_opens as bigint) as campaign_human_opens_before_day

    from days
    window running as (partition by customer_id order by known_on rows between unbounded preceding and current row)

),

final as (

    select
        customer_id,
        known_on,
        cumulative_deliveries,
        cumulative_human_opens,
        cumulative_campaign_deliveries,
        cumulative_campaign_human_opens,
        cumulative_clicks,
        cumulative_bounces,
        cumulative_unsubscribes,
        cumulative_spam_reports,
        last_human_open_at,
        last_click_at,
        -- Null until an order is known.
        last_value(case when has_order then campaign_deliveries_before_day end ignore nulls) over running
            as campaign_deliveries_at_last_order,
        last_value(case when has_order then campaign_human_opens_before_day end ignore nulls) over running
            as campaign_human_opens_at_last_order

    from running
    window running as (partition by customer_id order by known_on rows between unbounded preceding and current row)

)

select * from final
