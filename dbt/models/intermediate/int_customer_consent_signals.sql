-- One row per explicit consent signal a customer gave in any source. Only deliberate acts count:
-- a CRM opt-out flag that is set, a ticked "accepts marketing" box at checkout, an unsubscribe,
-- spam report or (re)subscription to a SendGrid group. An unset CRM flag or an unticked box is
-- the field's default, not a statement, so it is not a signal.
with

records as (

    select customer_id, record_id, source, source_key from {{ ref('int_customer_records') }}

),

crm_signals as (

    select
        'crm_contact:' || contact_id as record_id,
        'email_marketing' as consent_type,
        cast(null as bigint) as asm_group_id,
        'opt_out' as signal,
        cast(last_modified_at as timestamp) as signaled_at,
        'crm Email Opt Out' as signal_source
    from {{ ref('stg_salesforce__contacts') }}
    where is_email_opted_out

    union all

    select
        'crm_contact:' || contact_id,
        'personalization',
        null,
        'opt_out',
        cast(last_modified_at as timestamp),
        'crm Personalization Opt Out'
    from {{ ref('stg_salesforce__contacts') }}
    where is_personalization_opted_out

),

order_signals as (

    select
        'shopify_order:' || cast(order_id as varchar) as record_id,
        'email_marketing' as consent_type,
        cast(null as bigint) as asm_group_id,
        'opt_in' as signal,
        created_at as signaled_at,
        'shopify Accepts Marketing' as signal_source
    from {{ ref('stg_shopify__orders') }}
    where accepts_marketing and not is_test_order

),

email_signals as (

    select
        'sendgrid_recipient:' || email_normalized as record_id,
        case when event_type in ('unsubscribe', 'spamreport') then 'email_marketing' else 'email_group' end as consent_type,
        case when event_type in ('group_unsubscribe', 'group_resubscribe') then asm_group_id end as asm_group_id,
        case when event_type = 'group_resubscribe' then 'opt_in' else 'opt_out' end as signal,
        event_at as signaled_at,
        'sendgrid ' || event_type as signal_source
    from {{ ref('stg_sendgrid__events') }}
    where event_type in ('unsubscribe', 'spamreport', 'group_unsubscribe', 'group_resubscribe')
        and email_normalized is not null
        and (event_type in ('unsubscribe', 'spamreport') or asm_group_id is not null)

),

signals as (

    select * from crm_signals
    union all
    select * from order_signals
    union all
    select * from email_signals

),

final as (

    select
        records.customer_id,
        signals.consent_type,
        signals.asm_group_id,
        signals.signal,
        signals.signaled_at,
        signals.signal_source,
        signals.record_id

    from signals
    inner join records
        on signals.record_id = records.record_id

)

select * from final
