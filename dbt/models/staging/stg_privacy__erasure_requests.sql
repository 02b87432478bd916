with

source as (

    select * from {{ source('raw', 'privacy_erasure_requests') }}

),

-- A request delivered again keeps its first copy: the legal deadline runs from first receipt.
first_received as (

    select *
    from source
    qualify row_number() over (
        partition by trim(request_id)
        order by _extract_date, _line_number
    ) = 1

),

final as (

    select
        trim(request_id) as request_id,
        email,
        {{ normalize_email('email') }} as email_normalized,
        {{ is_valid_email(normalize_email('email')) }} as is_email_valid,
        {{ parse_utc_timestamp('received_at') }} as received_at,
        _extract_date as extract_date,
        _source_file as source_file,
        _line_number as source_line_number

    from first_received

)

select * from final
