with

source as (

    select * from {{ source('raw', 'email_events') }}

),

-- Webhooks retry: keep the earliest received copy of each event.
first_received as (

    select *
    from source
    qualify row_number() over (
        partition by payload ->> '$.sg_event_id'
        order by _extract_date, _line_number
    ) = 1

),

renamed as (

    select
        payload ->> '$.sg_event_id' as event_id,
        {{ parse_unix_seconds("payload ->> '$.timestamp'") }} as event_at,
        lower(trim(payload ->> '$.event')) as event_type,
        payload ->> '$.email' as email,
        payload ->> '$.sg_message_id' as sg_message_id,
        {{ json_string_or_list("payload -> '$.category'") }} as categories,
        payload ->> '$.marketing_campaign_id' as marketing_campaign_id,
        payload ->> '$.marketing_campaign_name' as marketing_campaign_name,
        payload ->> '$.url' as url,
        payload ->> '$.useragent' as useragent,
        payload ->> '$.ip' as ip,
        coalesce(json_type(payload -> '$.sg_machine_open') = 'BOOLEAN'
            and cast(payload -> '$.sg_machine_open' as boolean), false) as is_machine_open,
        payload ->> '$.reason' as reason,
        payload ->> '$.type' as bounce_type,
        cast(payload ->> '$.asm_group_id' as bigint) as asm_group_id,
        _extract_date as received_date,
        _source_file as source_file,
        _line_number as source_line_number

    from first_received

),

final as (

    select
        event_id,
        event_at,
        event_type,
        email,
        {{ normalize_email('email') }} as email_normalized,
        {{ is_valid_email(normalize_email('email')) }} as is_email_valid,
        sg_message_id,
        categories,
        marketing_campaign_id,
        marketing_campaign_name,
        url,
        useragent,
        ip,
        is_machine_open,
        reason,
        bounce_type,
        asm_group_id,
        received_date,
        received_date > cast(event_at as date) as is_late,
        source_file,
        source_line_number

    from renamed

)

select * from final
