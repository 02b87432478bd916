{#- Helpers shared by the feature snapshot marts (models/marts/features). A snapshot date S holds
    what was known at the end of day S (UTC): its rows carry event_timestamp = S + 1 day, so a
    point-in-time join never hands a row to an entity timestamp inside the day it summarizes. -#}

{#- The last day the exports cover: the newest extract date of any source. -#}
{% macro feature_snapshot_through_date() -%}
    (select max(extract_date) from (
        select max(extract_date) as extract_date from {{ ref('stg_shopify__orders') }}
        union all select max(received_date) from {{ ref('stg_sendgrid__events') }}
        union all select max(extract_date) from {{ ref('stg_zendesk__tickets') }}
        union all select max(extract_date) from {{ ref('stg_salesforce__contacts') }}
    ))
{%- endmacro %}

{#- The first snapshot date this run computes: the day after the newest one already stored, or
    the beginning of time on a full build. -#}
{% macro feature_snapshot_start_date() -%}
    {%- if is_incremental() -%}
        (select coalesce(max(snapshot_date) + 1, date '1900-01-01') from {{ this }})
    {%- else -%}
        date '1900-01-01'
    {%- endif -%}
{%- endmacro %}

{#- Keep the candidate rows whose feature values differ from the customer's previous row (the
    latest stored one on an incremental run): a snapshot table stores change points only, and a
    reader holds each row's values until the customer's next row.

    `days_relation` (the model's per-customer days): on an incremental run, a customer with stored
    values who has no day there any more (identity resolution split their records away, or merged
    them into another customer) gets a row of empty values on the last day, so that nothing stale
    is served for them; a rebuild has no row for them at all, which a reader sees the same way. -#}
{% macro keep_changed_feature_rows(candidates, days_relation=none) -%}
    {%- if is_incremental() %}
    stored_latest as (
        select customer_id, max(snapshot_date) as snapshot_date, arg_max(feature_hash, snapshot_date) as feature_hash
        from {{ this }}
        group by customer_id
    ),
    {%- if days_relation %}
    emptied as (
        select
            stored_latest.customer_id,
            bounds.through_date as snapshot_date,
            cast(bounds.through_date + interval 1 day as timestamp) as event_timestamp,
            '{{ emptied_feature_hash() }}' as feature_hash
        from stored_latest
        cross join (select {{ feature_snapshot_through_date() }} as through_date) as bounds
        where stored_latest.feature_hash <> '{{ emptied_feature_hash() }}'
            and bounds.through_date > stored_latest.snapshot_date
            and stored_latest.customer_id not in (select customer_id from {{ days_relation }})
    ),
    {%- endif %}
    {%- endif %}
    sequenced as (
        select
            *,
            lag(feature_hash) over (partition by customer_id order by snapshot_date) as previous_in_run
        from (
            select * from {{ candidates }}
            {%- if is_incremental() and days_relation %}
            union all by name
            select * from emptied
            {%- endif %}
        )
    ),
    changed as (
        select sequenced.* exclude (previous_in_run)
        from sequenced
        {%- if is_incremental() %}
        left join stored_latest on stored_latest.customer_id = sequenced.customer_id
        {%- endif %}
        where sequenced.feature_hash is distinct from coalesce(
            sequenced.previous_in_run
            {%- if is_incremental() %}, stored_latest.feature_hash{% endif %}
        )
    )
{%- endmacro %}

{#- The (customer_id, snapshot_date) pairs whose values can change in this run, and each pair's
    running totals as of that day (`totals.*`) plus the day before each window opened
    (`window_<n>d_before`). A customer's values change on a day with an event and on the days an
    event leaves each window; an incremental run also revisits every customer on its last day,
    which picks up what changed their history after the fact (an identity merge, a replay). -#}
{% macro feature_candidates_as_of(days_relation, window_days) -%}
    bounds as (
        select {{ feature_snapshot_start_date() }} as start_date, {{ feature_snapshot_through_date() }} as through_date
    ),
    candidate_dates as (
        select distinct days.customer_id, days.known_on + window_days.days as snapshot_date
        from {{ days_relation }} as days
        cross join (values (0){% for days in window_days %}, ({{ days }}){% endfor %}) as window_days (days)
        cross join bounds
        where days.known_on + window_days.days between bounds.start_date and bounds.through_date
        {%- if is_incremental() %}
        union
        select distinct days.customer_id, bounds.through_date
        from {{ days_relation }} as days
        cross join bounds
        where bounds.through_date >= bounds.start_date
        {%- endif %}
    ),
    as_of as (
        select
            candidate_dates.customer_id,
            candidate_dates.snapshot_date,
            {%- for days in window_days %}
            candidate_dates.snapshot_date - {{ days }} as window_{{ days }}d_before,
            {%- endfor %}
            totals.* exclude (customer_id, known_on)
        from candidate_dates
        asof inner join {{ days_relation }} as totals
            on totals.customer_id = candidate_dates.customer_id
            and candidate_dates.snapshot_date >= totals.known_on
    )
{%- endmacro %}


{#- The feature hash of a row whose values are all empty (see keep_changed_feature_rows). -#}
{% macro emptied_feature_hash() -%}emptied{%- endmacro %}
