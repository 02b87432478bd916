-- One row per source record: the customer it belongs to and how it was joined to them.
with

records as (

    select * from {{ ref('int_customer_records') }}

),

deterministic_edges as (

    select * from {{ ref('int_identity_edges_deterministic') }}

),

accepted_pairs as (

    select * from {{ source('identity', 'probabilistic_match_pairs') }}
    where is_accepted

),

-- Every accepted edge, seen from both of its records.
edge_ends as (

    select record_id_l as record_id, match_type, 1.0 as match_probability from deterministic_edges
    union all
    select record_id_r, match_type, 1.0 from deterministic_edges
    union all
    select record_id_l, 'probabilistic', match_probability from accepted_pairs
    union all
    select record_id_r, 'probabilistic', match_probability from accepted_pairs

),

-- A record's strongest link: an exact email, then an exact phone, then its most probable Splink match.
strongest_link as (

    select
        record_id,
        arg_min(match_type, (case match_type when 'email' then 1 when 'phone' then 2 else 3 end, -match_probability)) as match_type,
        max(match_probability) as match_probability,
        list(distinct match_type order by match_type) as match_types,
        count(*) as link_count

    from edge_ends
    group by record_id

),

final as (

    select
        records.source,
        records.source_key,
        records.record_id,
        records.customer_id,
        coalesce(strongest_link.match_type, 'none') as match_type,
        cast(strongest_link.match_probability as double) as match_probability,
        coalesce(strongest_link.match_types, []::varchar[]) as match_types,
        coalesce(strongest_link.link_count, 0) as link_count,
        records.is_deleted_in_source

    from records
    left join strongest_link
        on records.record_id = strongest_link.record_id

)

select * from final
