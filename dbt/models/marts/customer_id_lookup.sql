-- One row per customer id ever issued, live or retired by a merge, with the live id to use now:
-- whoever kept an old id (a CRM sync, an app's cache) can always find where its records went.
with

live_ids as (

    select distinct customer_id from {{ source('identity', 'customer_id_assignments') }}

),

retired_ids as (

    select * from {{ source('identity', 'retired_customer_ids') }}

),

final as (

    select
        customer_id,
        customer_id as current_customer_id,
        false as is_retired,
        cast(null as timestamp) as retired_at
    from live_ids

    union all

    select
        retired_customer_id,
        current_customer_id,
        true,
        cast(retired_at as timestamp)
    from retired_ids

)

select * from final
