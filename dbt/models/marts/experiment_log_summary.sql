-- Per experiment: what its assignment log held and what the analysis leaves out, and why.
with

exposures as (

    select * from {{ ref('int_experiment_exposures') }}

),

assignments as (

    select * from {{ ref('fct_experiment_assignments') }}

),

logged as (

    select
        experiment_id,
        any_value(experiment_name) filter (where experiment_name is not null) as experiment_name,
        count(*) as logged_rows,
        count(*) filter (where unmatched_reason = 'unknown id') as unknown_id_rows,
        count(*) filter (where unmatched_reason = 'id shared by several customers') as shared_id_rows,
        cast(min(assigned_at) as timestamp) as first_assigned_at,
        cast(max(assigned_at) as timestamp) as last_assigned_at

    from exposures
    group by experiment_id

),

assigned as (

    select
        experiment_id,
        count(*) as customers,
        count(*) filter (where is_analyzable) as analyzable_customers,
        count(*) filter (where not is_analyzable) as customers_in_several_arms,
        sum(exposures) filter (where not is_analyzable) as rows_of_customers_in_several_arms,
        sum(exposures - 1) filter (where is_analyzable) as repeated_exposure_rows

    from assignments
    group by experiment_id

),

final as (

    select
        logged.experiment_id,
        logged.experiment_name,
        logged.logged_rows,
        logged.unknown_id_rows,
        logged.shared_id_rows,
        coalesce(assigned.customers, 0) as customers,
        coalesce(assigned.analyzable_customers, 0) as analyzable_customers,
        coalesce(assigned.customers_in_several_arms, 0) as customers_in_several_arms,
        cast(coalesce(assigned.rows_of_customers_in_several_arms, 0) as bigint) as rows_of_customers_in_several_arms,
        cast(coalesce(assigned.repeated_exposure_rows, 0) as bigint) as repeated_exposure_rows,
        logged.first_assigned_at,
        logged.last_assigned_at

    from logged
    left join assigned
        on logged.experiment_id = assigned.experiment_id

)

select * from final
