-- Every normalised alias must point to one country, or the lookup join would duplicate rows.
with

country_codes as (

    select * from {{ ref('country_codes') }}

),

final as (

    select
        {{ normalize_country_key('country_alias') }} as country_key,
        count(distinct country_code) as country_count

    from country_codes
    group by 1
    having count(distinct country_code) > 1

)

select * from final
