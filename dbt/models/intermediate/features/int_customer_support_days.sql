-- One row per customer per day on which their support history changed as known then, with running
-- totals. A ticket counts (and is open) from the day it was created; its resolution, rating and
-- reopens count from the extract date of the export that delivered its current version (the help
-- desk exports the current state only, so that is when they were known).
with

tickets as (

    select * from {{ ref('fct_support_tickets') }}
    where customer_id is not null

),

created as (

    select
        customer_id,
        cast(created_at as date) as known_on,
        1 as tickets,
        1 as open_tickets,
        case when priority = 'urgent' then 1 else 0 end as urgent_tickets,
        0 as resolved_tickets,
        0 as resolution_minutes,
        0 as reopens,
        0 as bad_ratings,
        created_at as ticket_at

    from tickets

),

updated as (

    select
        customer_id,
        greatest(extract_date, cast(created_at as date)) as known_on,
        0 as tickets,
        case when is_resolved then -1 else 0 end as open_tickets,
        0 as urgent_tickets,
        case when is_resolved then 1 else 0 end as resolved_tickets,
        case when is_resolved then coalesce(full_resolution_minutes, 0) else 0 end as resolution_minutes,
        coalesce(reopens, 0) as reopens,
        case when satisfaction_score = 'bad' then 1 else 0 end as bad_ratings,
        cast(null as timestamp) as ticket_at

    from tickets
    where is_resolved or reopens > 0 or satisfaction_score = 'bad'

),

daily as (

    select
        customer_id,
        known_on,
        sum(tickets) as tickets,
        sum(open_tickets) as open_tickets,
        sum(urgent_tickets) as urgent_tickets,
        sum(resolved_tickets) as resolved_tickets,
        sum(resolution_minutes) as resolution_minutes,
        sum(reopens) as reopens,
        sum(bad_ratings) as bad_ratings,
        max(ticket_at) as last_ticket_at

    from (select * from created union all select * from updated)
    group by customer_id, known_on

),

final as (

    select
        customer_id,
        known_on,
        cast(sum(tickets) over running as bigint) as cumulative_tickets,
        cast(sum(open_tickets) over running as bigint) as open_tickets,
        cast(sum(urgent_tickets) over running as bigint) as cumulative_urgent_tickets,
        cast(sum(resolved_tickets) over running as bigint) as cumulative_resolved_tickets,
        cast(sum(resolution_minutes) over running as bigint) as cumulative_resolution_minutes,
        cast(sum(reopens) over running as bigint) as cumulative_reopens,
        cast(sum(bad_ratings) over running as bigint) as cumulative_bad_ratings,
        max(last_ticket_at) over running as last_ticket_at

    from daily
    window running as (partition by customer_id order by known_on rows between unbounded preceding and current row)

)

select * from final
