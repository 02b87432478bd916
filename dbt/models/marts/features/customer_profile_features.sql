-- Profile per customer per snapshot date, stored as change points: a row whenever the nightly
-- run observes a customer's profile (sources, zero-party preferences, consent) differ from their
-- previous row. The exports hold only the current profile, so the first build dates each
-- customer's profile at the day they were first seen; every later change is dated the night it
-- was observed. Tenure is derived on demand in Feast from first_seen_at.
{{ config(unique_key=['customer_id', 'snapshot_date'], pre_hook="{{ convert_text_column_to_list('interests', ';') }}") }}
with

customers as (

    select * from {{ ref('dim_customers') }}

),

bounds as (

    select {{ feature_snapshot_start_date() }} as start_date, {{ feature_snapshot_through_date() }} as through_date

),

candidates as (

    select
        customers.customer_id,
        {%- if is_incremental() %}
        bounds.through_date as snapshot_date,
        {%- else %}
        least(coalesce(cast(customers.first_seen_at as date), bounds.through_date), bounds.through_date) as snapshot_date,
        {%- endif %}
        customers.first_seen_at,
        array_to_string(customers.sources, ';') as sources,
        len(customers.sources) as source_count,
        customers.preferred_channel,
        customers.interests,
        customers.email_marketing_consent,
        customers.is_email_marketable,
        customers.is_personalization_opted_out

    from customers
    cross join bounds
    where bounds.through_date >= bounds.start_date

),

dated as (

    select
        customer_id,
        snapshot_date,
        cast(snapshot_date + interval 1 day as timestamp) as event_timestamp,
        candidates.* exclude (customer_id, snapshot_date)
    from candidates

),

hashed as (

    select *, md5(cast(row(*columns(* exclude (customer_id, snapshot_date, event_timestamp))) as varchar)) as feature_hash
    from dated

),

{{ keep_changed_feature_rows('hashed') }}

select * from changed
