-- One row per SendGrid event (webhook retries already folded in staging) with its customer; an
-- event that names no recipient is kept with a null customer_id (a warn-level test counts them).
with

events as (

    select * from {{ ref('stg_sendgrid__events') }}

),

identity_map as (

    select record_id, customer_id from {{ ref('customer_identity_map') }}
    where source = 'sendgrid_recipient'

),

final as (

    select
        events.event_id,
        identity_map.customer_id,
        events.event_at,
        events.event_type,
        events.sg_message_id,
        events.categories,
        events.marketing_campaign_id,
        events.marketing_campaign_name,
        events.url,
        events.is_machine_open,
        events.event_type = 'open' and not events.is_machine_open as is_human_open,
        events.bounce_type,
        events.asm_group_id,
        events.is_late,
        events.received_date

    from events
    left join identity_map
        on identity_map.record_id = 'sendgrid_recipient:' || events.email_normalized

)

select * from final
