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

    select distinct
        identifier_records.identifier_type,
        identifier_records.identifier,
        identifier_records.first_name,
        identifier_records.last_name,
        coalesce(regexp_split_to_array(identifier_records.last_name, '[ -]'), []) as last_name_parts

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
        right_names.first_name as first_name_r,
        left_names.last_name as last_name_l,
        right_names.last_name as last_name_r,
        left_names.last_name_parts as last_name_parts_l,
        right_names.last_name_parts as last_name_parts_r

    from identifier_names as left_names
    inner join identifier_names as right_names
        on left_names.identifier_type = right_names.identifier_type
        and left_names.identifier = right_names.identifier
        and left_names.first_name < right_names.first_name

),

-- Two first names that cannot be one person's: a household phone, an office mailbox. Not when
-- they are nickname forms of one name, when they are close spellings or one is the other's
-- initial ("j" and "john") and the last names agree, when one record holds only a surname in the
-- first-name field, or when one record has first and last name swapped.
incompatible_names as (

    select distinct identifier_type, identifier

    from name_pairs
    -- a close spelling, an initial or a short form fits a name only where the last names do not
    -- say otherwise
    where not ((jaro_winkler_similarity(first_name_l, first_name_r) >= {{ var('identity_first_name_similarity', 0.88) }}
                or starts_with(first_name_l, first_name_r) or starts_with(first_name_r, first_name_l))
            and (last_name_l is null or last_name_r is null or list_has_any(last_name_parts_l, last_name_parts_r)
                or jaro_winkler_similarity(last_name_l, last_name_r) >= {{ var('identity_first_name_similarity', 0.88) }}))
        and not (last_name_l is null and list_contains(last_name_parts_r, first_name_l))
        and not (last_name_r is null and list_contains(last_name_parts_l, first_name_r))
        -- swapped: the swapped record's last name could be the other's first name (written out,
        -- cut short or a nickname: "bradley nick" and "nicholas bradley")
        and not (list_contains(last_name_parts_r, first_name_l)
            and (last_name_l[1] = first_name_r[1] or list_contains(last_name_parts_l, first_name_r)))
        and not (list_contains(last_name_parts_l, first_name_r)
            and (last_name_r[1] = first_name_l[1] or list_contains(last_name_parts_r, first_name_l)))
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
