-- One row per Zendesk ticket (current version) with its customer; a ticket without a requester id
-- is kept with a null customer_id (a warn-level test counts them).
with

tickets as (

    select * from {{ ref('stg_zendesk__tickets') }}

),

identity_map as (

    select record_id, customer_id from {{ ref('customer_identity_map') }}
    where source = 'zendesk_requester'

),

final as (

    select
        tickets.ticket_id,
        identity_map.customer_id,
        cast(tickets.created_at as timestamp) as created_at,
        cast(tickets.updated_at as timestamp) as updated_at,
        tickets.status,
        tickets.priority,
        tickets.ticket_type,
        tickets.channel,
        tickets.tags,
        tickets.satisfaction_score,
        tickets.first_reply_minutes,
        tickets.full_resolution_minutes,
        tickets.reopens,
        tickets.status in ('solved', 'closed') as is_resolved,
        tickets.extract_date

    from tickets
    left join identity_map
        on identity_map.record_id = 'zendesk_requester:' || cast(tickets.requester_id as varchar)

)

select * from final
