with

current_rates as (

    {{ select_current_fx_rates() }}

),

final as (

    select
        currency || '-' || strftime(rate_date, '%Y-%m-%d') as fx_rate_id,
        rate_date,
        currency,
        usd_per_unit,
        extract_date,
        source_file,
        source_line_number

    from current_rates

)

select * from final
