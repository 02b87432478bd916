with

source as (

    select * from {{ source('raw', 'support_tickets') }}

),

renamed as (

    select
        cast(payload ->> '$.id' as bigint) as ticket_id,
        {{ parse_utc_timestamp("payload ->> '$.created_at'") }} as created_at,
        {{ parse_utc_timestamp("payload ->> '$.updated_at'") }} as updated_at,
        lower(trim(payload ->> '$.status')) as status,
        lower(trim(payload ->> '$.priority')) as priority,
        lower(trim(payload ->> '$.type')) as ticket_type,
        payload ->> '$.subject' as subject,
        payload ->> '$.description' as description,
        lower(trim(payload ->> '$.via.channel')) as channel,
        cast(payload ->> '$.requester.id' as bigint) as requester_id,
        payload ->> '$.requester.name' as requester_name,
        payload ->> '$.requester.email' as requester_email,
        payload ->> '$.requester.phone' as requester_phone,
        {{ json_string_or_list("payload -> '$.tags'") }} as tags,
        lower(trim(payload ->> '$.satisfaction_rating.score')) as satisfaction_score,
        payload ->> '$.satisfaction_rating.comment' as satisfaction_comment,
        cast(payload ->> '$.metrics.first_reply_minutes' as integer) as first_reply_minutes,
        cast(payload ->> '$.metrics.full_resolution_minutes' as integer) as full_resolution_minutes,
        cast(payload ->> '$.metrics.reopens' as integer) as reopens,
        _extract_date as extract_date,
        _source_file as source_file,
        _line_number as source_line_number

    from source

),

current_versions as (

    select *
    from renamed
    qualify row_number() over (
        partition by ticket_id
        order by updated_at desc nulls last, extract_date desc, source_line_number desc
    ) = 1

),

normalized as (

    select
        *,
        {{ normalize_email('requester_email') }} as requester_email_normalized,
        {{ normalize_name('requester_name') }} as requester_name_normalized,
        -- Zendesk has no requester country: phones are read as US unless written with +<code>.
        phone_e164(requester_phone, 'US') as requester_phone_e164

    from current_versions

),

final as (

    select
        ticket_id,
        created_at,
        updated_at,
        status,
        priority,
        ticket_type,
        subject,
        description,
        channel,
        requester_id,
        requester_name,
        requester_name_normalized,
        {{ first_name_part('requester_name_normalized') }} as requester_first_name_normalized,
        {{ last_name_part('requester_name_normalized') }} as requester_last_name_normalized,
        requester_email,
        requester_email_normalized,
        {{ is_valid_email('requester_email_normalized') }} as is_requester_email_valid,
        requester_phone,
        requester_phone_e164,
        case when {{ clean_whitespace('requester_phone') }} is not null then requester_phone_e164 is not null end as is_requester_phone_valid,
        tags,
        satisfaction_score,
        satisfaction_comment,
        first_reply_minutes,
        full_resolution_minutes,
        reopens,
        extract_date,
        source_file,
        source_line_number

    from normalized

)

select * from final
