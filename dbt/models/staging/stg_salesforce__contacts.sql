with

source as (

    select * from {{ source('raw', 'crm_contacts') }}

),

country_codes as (

    {{ select_country_codes() }}

),

renamed as (

    select
        trim("Contact ID") as contact_id,
        "First Name" as first_name,
        "Last Name" as last_name,
        "Email" as email,
        "Phone" as phone,
        "Mailing Street" as mailing_street,
        "Mailing City" as mailing_city,
        "Mailing State/Province" as mailing_state,
        "Mailing Zip/Postal Code" as mailing_postcode,
        "Mailing Country" as mailing_country,
        {{ parse_us_date('"Birthdate"') }} as birthdate,
        {{ clean_whitespace('"Lead Source"') }} as lead_source,
        {{ clean_whitespace('"Preferred Channel"') }} as preferred_channel,
        {{ split_to_list('"Interests"', ';') }} as interests,
        coalesce({{ parse_boolean('"Email Opt Out"') }}, false) as is_email_opted_out,
        coalesce({{ parse_boolean('"Personalization Opt Out"') }}, false) as is_personalization_opted_out,
        coalesce({{ parse_boolean('"Is Deleted"') }}, false) as is_deleted,
        {{ parse_utc_timestamp('"Created Date"') }} as created_at,
        {{ parse_utc_timestamp('"Last Modified Date"') }} as last_modified_at,
        _extract_date as extract_date,
        _source_file as source_file,
        _line_number as source_line_number

    from source

),

current_versions as (

    select *
    from renamed
    qualify row_number() over (
        partition by contact_id
        order by last_modified_at desc nulls last, extract_date desc, source_line_number desc
    ) = 1

),

with_country as (

    select
        current_versions.*,
        country_codes.country_code

    from current_versions
    left join country_codes
        on {{ normalize_country_key('current_versions.mailing_country') }} = country_codes.country_key

),

normalized as (

    select
        *,
        {{ normalize_email('email') }} as email_normalized,
        phone_e164(phone, coalesce(country_code, 'US')) as phone_e164

    from with_country

),

final as (

    select
        contact_id,
        first_name,
        last_name,
        {{ normalize_name('first_name') }} as first_name_normalized,
        {{ normalize_name('last_name') }} as last_name_normalized,
        email,
        email_normalized,
        {{ is_valid_email('email_normalized') }} as is_email_valid,
        phone,
        phone_e164,
        case when {{ clean_whitespace('phone') }} is not null then phone_e164 is not null end as is_phone_valid,
        mailing_street,
        mailing_city,
        mailing_state,
        mailing_postcode,
        {{ normalize_postcode('mailing_postcode', 'country_code') }} as postcode_normalized,
        mailing_country,
        country_code,
        birthdate,
        lead_source,
        preferred_channel,
        interests,
        is_email_opted_out,
        is_personalization_opted_out,
        is_deleted,
        created_at,
        last_modified_at,
        extract_date,
        source_file,
        source_line_number

    from normalized

)

select * from final
