with

nodes as (

    select * from {{ ref('int_identity_nodes') }}

),

nicknames as (

    select * from {{ ref('first_name_nicknames') }}

),

identifier_records as (

    {{ select_identity_identifiers('nodes') }}

),

shared_identifiers as (

    select
        identifier_type,
        identifier,
        count(distinct record_id) as record_count,
        count(distinct first_name) as distinct_first_names

    from identifier_records
    group by identifier_type, identifier
    having count(distinct record_id) > 1

),

identifier_names as (

    select distinct identifier_records.identifier_type, identifier_records.identifier, identifier_records.first_name

    from identifier_records
    inner join shared_identifiers using (identifier_type, identifier)
    where identifier_records.first_name is not null

),

-- A name's forms: itself, and the full names it is a nickname of (bob -> robert).
name_forms as (

    select distinct first_name as name, first_name as canonical_name from identifier_names
    union
    select nickname as name, first_name as canonical_name from nicknames

),

name_pairs as (

    select
        left_names.identifier_type,
        left_names.identifier,
        left_names.first_name as first_name_l,
        right_names.first_name as first_name_r

    from identifier_names as left_names
    inner join identifier_names as right_names
        on left_names.identifier_type = right_names.identifier_type
        and left_names.identifier = right_names.identifier
        and left_names.first_name < right_names.first_name

),

-- Two first names that are neither close spellings nor nickname forms of one name cannot be
-- one person: a household phone, an office mailbox.
incompatible_names as (

    select distinct identifier_type, identifier

    from name_pairs
    where jaro_winkler_similarity(first_name_l, first_name_r) < {{ var('identity_first_name_similarity', 0.88) }}
        and not exists (
            select 1
            from name_forms as forms_l
            inner join name_forms as forms_r on forms_l.canonical_name = forms_r.canonical_name
            where forms_l.name = name_pairs.first_name_l and forms_r.name = name_pairs.first_name_r
        )

),

final as (

    select
        shared_identifiers.identifier_type,
        shared_identifiers.identifier,
        shared_identifiers.record_count,
        shared_identifiers.distinct_first_names,
        case
            when shared_identifiers.identifier_type = 'email'
                and split_part(shared_identifiers.identifier, '@', 1) in {{ generic_mailbox_names() }}
                then 'generic mailbox'
            when incompatible_names.identifier is not null
                then 'records with incompatible first names'
        end as distrust_reason,
        distrust_reason is null as is_trusted

    from shared_identifiers
    left join incompatible_names using (identifier_type, identifier)

)

select * from final
