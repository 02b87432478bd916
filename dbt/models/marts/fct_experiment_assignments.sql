-- One row per experiment and customer: the arm of their first exposure, when it happened, and
-- whether the tool put them in more than one arm (a defect: reported, left out of the analysis).
with

exposures as (

    select * from {{ ref('int_experiment_exposures') }}
    where customer_id is not null

),

per_customer as (

    select
        experiment_id,
        customer_id,
        arg_min(variation_id, (assigned_at, extract_date, source_line_number)) as variation_id,
        cast(min(assigned_at) as timestamp) as assigned_at,
        any_value(experiment_name) filter (where experiment_name is not null) as experiment_name,
        count(*) as exposures,
        count(distinct variation_id) as arms_seen,
        list(distinct variation_id order by variation_id) as arms

    from exposures
    group by experiment_id, customer_id

),

final as (

    select
        experiment_id,
        experiment_name,
        customer_id,
        variation_id,
        assigned_at,
        exposures,
        arms,
        arms_seen = 1 as is_analyzable,
        case when arms_seen > 1 then 'in ' || arms_seen || ' arms' end as exclusion_reason

    from per_customer

)

select * from final
