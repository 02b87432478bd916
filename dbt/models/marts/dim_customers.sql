-- One row per customer: a golden record chosen field group by field group, first and last seen,
-- the sources present, zero-party preferences, and consent resolved across every source.
with

records as (

    select * from {{ ref('int_customer_records') }}

),

source_priority as (

    select * from {{ ref('survivorship_source_priority') }}

),

consent_signals as (

    select * from {{ ref('int_customer_consent_signals') }}

),

contacts as (

    select * from {{ ref('stg_salesforce__contacts') }}

),

-- Survivorship: within each field group (name, email, phone, address, birthdate) every record
-- holding a value is a candidate; the winner is the live record (not deleted in its source) of
-- the highest-priority source, then the most recently seen, then the lowest record id. A group's
-- fields come from one record, so an address is never stitched together from two.
candidates as (

    select
        records.*,
        source_priority.attribute_group,
        row_number() over (
            partition by records.customer_id, source_priority.attribute_group
            order by records.is_deleted_in_source, source_priority.priority,
                records.last_seen_at desc nulls last, records.record_id
        ) as candidate_rank

    from records
    inner join source_priority
        on records.source = source_priority.source
    where case source_priority.attribute_group
        when 'name' then records.first_name is not null or records.last_name is not null
        when 'email' then records.email is not null
        when 'phone' then records.phone_e164 is not null
        when 'address' then records.street is not null
        when 'birthdate' then records.birthdate is not null
    end

),

golden_record as (

    select
        customer_id,
        any_value(first_name) filter (where attribute_group = 'name') as first_name,
        any_value(last_name) filter (where attribute_group = 'name') as last_name,
        any_value(source) filter (where attribute_group = 'name') as name_source,
        any_value(email) filter (where attribute_group = 'email') as email,
        any_value(source) filter (where attribute_group = 'email') as email_source,
        any_value(phone_e164) filter (where attribute_group = 'phone') as phone_e164,
        any_value(source) filter (where attribute_group = 'phone') as phone_source,
        any_value(street) filter (where attribute_group = 'address') as street,
        any_value(city) filter (where attribute_group = 'address') as city,
        any_value(region) filter (where attribute_group = 'address') as region,
        any_value(postcode) filter (where attribute_group = 'address') as postcode,
        any_value(country_code) filter (where attribute_group = 'address') as country_code,
        any_value(source) filter (where attribute_group = 'address') as address_source,
        any_value(birthdate) filter (where attribute_group = 'birthdate') as birthdate

    from candidates
    where candidate_rank = 1
    group by customer_id

),

customers as (

    select
        customer_id,
        min(customer_created_at) as customer_created_at,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        list(distinct source order by source) filter (where not is_deleted_in_source) as sources,
        count(*) as source_record_count,
        bool_and(is_deleted_in_source) as has_only_deleted_records

    from records
    group by customer_id

),

-- Zero-party preferences as the customer's most recently modified live CRM contact states them.
preferences as (

    select
        records.customer_id,
        arg_max(contacts.preferred_channel, contacts.last_modified_at) as preferred_channel,
        arg_max(contacts.interests, contacts.last_modified_at) as interests

    from records
    inner join contacts
        on records.source = 'crm_contact' and records.source_key = contacts.contact_id
    where not contacts.is_deleted
    group by records.customer_id

),

-- The latest explicit signal wins; at the same instant an opt-out beats an opt-in.
email_marketing_consent as (

    select
        customer_id,
        arg_max(signal, (signaled_at, signal = 'opt_out')) as signal,
        max(signaled_at) as signaled_at,
        arg_max(signal_source, (signaled_at, signal = 'opt_out')) as signal_source

    from consent_signals
    where consent_type = 'email_marketing'
    group by customer_id

),

email_group_consent as (

    select customer_id, asm_group_id, arg_max(signal, (signaled_at, signal = 'opt_out')) as signal
    from consent_signals
    where consent_type = 'email_group'
    group by customer_id, asm_group_id

),

unsubscribed_groups as (

    select customer_id, list(asm_group_id order by asm_group_id) as asm_group_ids
    from email_group_consent
    where signal = 'opt_out'
    group by customer_id

),

personalization_opt_outs as (

    select customer_id, max(signaled_at) as opted_out_at
    from consent_signals
    where consent_type = 'personalization' and signal = 'opt_out'
    group by customer_id

),

final as (

    select
        customers.customer_id,
        golden_record.first_name,
        golden_record.last_name,
        golden_record.email,
        golden_record.phone_e164,
        golden_record.street,
        golden_record.city,
        golden_record.region,
        golden_record.postcode,
        golden_record.country_code,
        golden_record.birthdate,
        golden_record.name_source,
        golden_record.email_source,
        golden_record.phone_source,
        golden_record.address_source,
        preferences.preferred_channel,
        coalesce(preferences.interests, []::varchar[]) as interests,
        coalesce(customers.sources, []::varchar[]) as sources,
        customers.source_record_count,
        customers.has_only_deleted_records,
        customers.first_seen_at,
        customers.last_seen_at,
        customers.customer_created_at,
        case email_marketing_consent.signal
            when 'opt_in' then 'opted_in'
            when 'opt_out' then 'opted_out'
            else 'no_signal'
        end as email_marketing_consent,
        email_marketing_consent.signaled_at as email_marketing_consent_at,
        email_marketing_consent.signal_source as email_marketing_consent_source,
        coalesce(unsubscribed_groups.asm_group_ids, []::bigint[]) as unsubscribed_email_group_ids,
        coalesce(email_marketing_consent.signal = 'opt_in' and golden_record.email is not null, false) as is_email_marketable,
        personalization_opt_outs.opted_out_at is not null as is_personalization_opted_out,
        personalization_opt_outs.opted_out_at as personalization_opted_out_at

    from customers
    left join golden_record
        on customers.customer_id = golden_record.customer_id
    left join preferences
        on customers.customer_id = preferences.customer_id
    left join email_marketing_consent
        on customers.customer_id = email_marketing_consent.customer_id
    left join unsubscribed_groups
        on customers.customer_id = unsubscribed_groups.customer_id
    left join personalization_opt_outs
        on customers.customer_id = personalization_opt_outs.customer_id

)

select * from final
