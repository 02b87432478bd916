-- One row per ticket per extract date that delivered it: the ticket's state as known at the end of
-- that day (of every version delivered so far, the one with the latest updated_at). Features read
-- when a resolution, a reopen or a rating became known from here; the current state of a ticket
-- is stg_zendesk__tickets.
with

source as (

    select * from {{ source('raw', 'support_tickets') }}

),

versions as (

    select
        cast(payload ->> '$.id' as bigint) as ticket_id,
        _extract_date as extract_date,
        {{ parse_utc_timestamp("payload ->> '$.updated_at'") }} as updated_at,
        lower(trim(payload ->> '$.status')) as status,
        lower(trim(payload ->> '$.satisfaction_rating.score')) as satisfaction_score,
        cast(payload ->> '$.metrics.full_resolution_minutes' as integer) as full_resolution_minutes,
        cast(payload ->> '$.metrics.reopens' as integer) as reopens,
        _line_number as source_line_number

    from source

),

-- The newest version (by updated_at) each extract date delivered.
delivered as (

    select *
    from versions
    qualify row_number() over (
        partition by ticket_id, extract_date
        order by updated_at desc nulls last, source_line_number desc
    ) = 1

),

-- A re-delivered older version does not roll the state back: the state at the end of a day is
-- the newest version delivered by then.
known as (

    select
        ticket_id,
        extract_date,
        arg_max(struct_pack(updated_at, status, satisfaction_score, full_resolution_minutes, reopens), updated_at)
            over running as state

    from delivered
    window running as (partition by ticket_id order by extract_date rows between unbounded preceding and current row)

),

final as (

    select
        ticket_id,
        extract_date,
        state.updated_at,
        state.status,
        state.status in ('solved', 'closed') as is_resolved,
        state.satisfaction_score,
        state.full_resolution_minutes,
        state.reopens

    from known

)

select * from final
