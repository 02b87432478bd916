-- One row per identity node with the customer id it resolved to, the values a golden record
-- may take from it (as the source wrote them, whitespace cleaned) and when the source first saw it.
with

nodes as (

    select * from {{ ref('int_identity_nodes') }}

),

assignments as (

    select * from {{ source('identity', 'customer_id_assignments') }}

),

contacts as (

    select
        contact_id as source_key,
        {{ clean_whitespace('first_name') }} as first_name,
        {{ clean_whitespace('last_name') }} as last_name,
        {{ clean_whitespace('mailing_street') }} as street,
        {{ clean_whitespace('mailing_city') }} as city,
        {{ clean_whitespace('mailing_state') }} as region,
        {{ clean_whitespace('mailing_postcode') }} as postcode,
        cast(created_at as timestamp) as first_seen_at,
        is_deleted

    from {{ ref('stg_salesforce__contacts') }}

),

orders as (

    select
        cast(order_id as varchar) as source_key,
        {{ first_name_part(clean_whitespace('billing_name')) }} as first_name,
        {{ last_name_part(clean_whitespace('billing_name')) }} as last_name,
        {{ clean_whitespace('billing_street') }} as street,
        {{ clean_whitespace('billing_city') }} as city,
        {{ clean_whitespace('billing_province') }} as region,
        {{ clean_whitespace('billing_postcode') }} as postcode,
        created_at as first_seen_at

    from {{ ref('stg_shopify__orders') }}

),

requesters as (

    select
        cast(requester_id as varchar) as source_key,
        arg_max({{ clean_whitespace('requester_name') }}, updated_at)
            filter (where {{ clean_whitespace('requester_name') }} is not null) as full_name,
        cast(min(created_at) as timestamp) as first_seen_at

    from {{ ref('stg_zendesk__tickets') }}
    where requester_id is not null
    group by requester_id

),

recipients as (

    select
        email_normalized as source_key,
        min(event_at) as first_seen_at

    from {{ ref('stg_sendgrid__events') }}
    where email_normalized is not null
    group by email_normalized

),

final as (

    select
        assignments.customer_id,
        cast(assignments.customer_created_at as timestamp) as customer_created_at,
        nodes.record_id,
        nodes.source,
        nodes.source_key,
        coalesce(contacts.first_name, orders.first_name, {{ first_name_part('requesters.full_name') }}) as first_name,
        coalesce(contacts.last_name, orders.last_name, {{ last_name_part('requesters.full_name') }}) as last_name,
        nodes.email,
        nodes.phone_e164,
        coalesce(contacts.street, orders.street) as street,
        coalesce(contacts.city, orders.city) as city,
        coalesce(contacts.region, orders.region) as region,
        coalesce(contacts.postcode, orders.postcode) as postcode,
        nodes.country_code,
        nodes.birthdate,
        coalesce(contacts.is_deleted, false) as is_deleted_in_source,
        coalesce(contacts.first_seen_at, orders.first_seen_at, requesters.first_seen_at, recipients.first_seen_at) as first_seen_at,
        cast(nodes.last_seen_at as timestamp) as last_seen_at

    from nodes
    inner join assignments
        on nodes.record_id = assignments.record_id
    left join contacts
        on nodes.source = 'crm_contact' and nodes.source_key = contacts.source_key
    left join orders
        on nodes.source = 'shopify_order' and nodes.source_key = orders.source_key
    left join requesters
        on nodes.source = 'zendesk_requester' and nodes.source_key = requesters.source_key
    left join recipients
        on nodes.source = 'sendgrid_recipient' and nodes.source_key = recipients.source_key

)

select * from final
