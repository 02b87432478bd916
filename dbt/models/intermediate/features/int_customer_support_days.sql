-- One row per customer per day on which their support history changed as known then, with running
-- totals. A ticket counts (and is open) from the day it was created; a resolution, a reopen or a bad
-- rating counts from the extract date of the first export whose version of the ticket carried it
-- (the help desk exports states, not events: each change between two known versions is an event).
with

tickets as (

    select * from {{ ref('fct_support_tickets') }}
    where customer_id is not null

),

first_exported as (

    select ticket_id, min(extract_date) as first_exported_on
    from {{ ref('stg_zendesk__ticket_versions') }}
    group by ticket_id

),

-- A ticket counts from the end of the day of the first export that carried it (normally the day
-- it was created).
created as (

    select
        tickets.customer_id,
        greatest(coalesce(first_exported.first_exported_on, tickets.extract_date), cast(tickets.created_at as date)) as known_on,
        1 as tickets,
        1 as open_tickets,
        case when tickets.priority = 'urgent' then 1 else 0 end as urgent_tickets,
        0 as resolved_tickets,
        0 as resolution_minutes,
        0 as reopens,
        0 as bad_ratings,
        tickets.created_at as ticket_at

    from tickets
    left join first_exported on first_exported.ticket_id = tickets.ticket_id

),

versions as (

    select
        versions.*,
        tickets.customer_id,
        greatest(versions.extract_date, cast(tickets.created_at as date)) as known_on,
        case when versions.is_resolved then 1 else 0 end as resolved,
        case when versions.is_resolved then coalesce(versions.full_resolution_minutes, 0) else 0 end as resolution_minutes_if_resolved,
        coalesce(versions.reopens, 0) as reopen_count,
        case when versions.satisfaction_score = 'bad' then 1 else 0 end as rated_bad

    from {{ ref('stg_zendesk__ticket_versions') }} as versions
    inner join tickets on tickets.ticket_id = versions.ticket_id

),

-- What each known version changed against the one before it. A ticket resolved and reopened is
-- open again; reopens and bad ratings only ever add (a rating changed later is not un-received).
updated as (

    select
        customer_id,
        known_on,
        0 as tickets,
        -(resolved - lag(resolved, 1, 0) over ticket) as open_tickets,
        0 as urgent_tickets,
        resolved - lag(resolved, 1, 0) over ticket as resolved_tickets,
        resolution_minutes_if_resolved - lag(resolution_minutes_if_resolved, 1, 0) over ticket as resolution_minutes,
        greatest(reopen_count - lag(reopen_count, 1, 0) over ticket, 0) as reopens,
        greatest(rated_bad - lag(rated_bad, 1, 0) over ticket, 0) as bad_ratings,
        cast(null as timestamp) as ticket_at

    from versions
    window ticket as (partition by ticket_id order by extract_date)

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
