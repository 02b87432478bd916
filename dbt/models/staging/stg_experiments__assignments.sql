-- One row per logged exposure (the tool logs a person again on every exposure); which exposure
-- stands and who it belongs to are decided after identity resolution (fct_experiment_assignments).
with

source as (

    select * from {{ source('raw', 'experiment_assignments') }}

),

final as (

    select
        trim(experiment_id) as experiment_id,
        nullif(trim(experiment_name), '') as experiment_name,
        trim(variation_id) as variation_id,
        trim(user_id) as user_id,
        -- The business assigns by an email address or by a CRM Contact ID.
        case when trim(user_id) like '%@%' then 'email' else 'crm_contact' end as user_id_kind,
        case when trim(user_id) like '%@%' then {{ normalize_email('user_id') }} end as email_normalized,
        case when trim(user_id) not like '%@%' then trim(user_id) end as contact_id,
        {{ parse_utc_timestamp('"timestamp"') }} as assigned_at,
        _extract_date as extract_date,
        _source_file as source_file,
        _line_number as source_line_number

    from source

)

select * from final
