-- Every logged exposure with the customer it belongs to now (NULL when no record of the platform
-- carries its id): an email joins the customers whose records carry it, a Contact ID its CRM record.
with

exposures as (

    select * from {{ ref('stg_experiments__assignments') }}

),

records as (

    select * from {{ ref('int_customer_records') }}

),

by_email as (

    select
        {{ normalize_email('email') }} as email_normalized,
        -- An email two customers carry (a shared family inbox) names nobody in particular.
        case when count(distinct customer_id) = 1 then any_value(customer_id) end as customer_id,
        count(distinct customer_id) as customers

    from records
    where email is not null
    group by 1

),

by_contact as (

    select source_key as contact_id, any_value(customer_id) as customer_id
    from records
    where source = 'crm_contact'
    group by 1

),

final as (

    select
        exposures.*,
        coalesce(by_email.customer_id, by_contact.customer_id) as customer_id,
        case
            when coalesce(by_email.customer_id, by_contact.customer_id) is not null then null
            when by_email.customers > 1 then 'id shared by several customers'
            else 'unknown id'
        end as unmatched_reason

    from exposures
    left join by_email
        on exposures.email_normalized = by_email.email_normalized
    left join by_contact
        on exposures.contact_id = by_contact.contact_id

)

select * from final
