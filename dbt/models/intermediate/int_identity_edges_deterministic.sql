with

nodes as (

    select * from {{ ref('int_identity_nodes') }}

),

assessed_identifiers as (

    select * from {{ ref('int_identity_identifiers_assessed') }}

),

identifier_records as (

    {{ select_identity_identifiers('nodes') }}

),

trusted_records as (

    select identifier_records.identifier_type, identifier_records.identifier, identifier_records.record_id

    from identifier_records
    inner join assessed_identifiers using (identifier_type, identifier)
    where assessed_identifiers.is_trusted

),

-- A star around each identifier's first record connects the same records as a clique would,
-- with n - 1 edges instead of n(n - 1)/2 (a loyal buyer has hundreds of orders).
anchored as (

    select
        identifier_type,
        record_id,
        min(record_id) over (partition by identifier_type, identifier) as anchor_record_id

    from trusted_records

),

final as (

    select distinct
        anchor_record_id as record_id_l,
        record_id as record_id_r,
        identifier_type as match_type

    from anchored
    where record_id <> anchor_record_id

)

select * from final
