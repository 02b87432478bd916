with

current_order_rows as (

    {{ select_current_shopify_order_rows() }}

),

fx_rates as (

    {{ select_current_fx_rates() }}

),

country_codes as (

    {{ select_country_codes() }}

),

line_counts as (

    select
        order_id,
        count(*) as line_count

    from current_order_rows
    group by order_id

),

-- Order-level columns are filled only on the first line row of an order.
first_rows as (

    select
        order_id,
        "Name" as order_name,
        "Email" as email,
        lower(trim("Financial Status")) as financial_status,
        lower(trim("Fulfillment Status")) as fulfillment_status,
        {{ parse_offset_timestamp_as_utc('"Created at"') }} as created_at,
        {{ parse_offset_timestamp_as_utc('"Paid at"') }} as paid_at,
        {{ parse_offset_timestamp_as_utc('"Cancelled at"') }} as cancelled_at,
        {{ parse_boolean('"Accepts Marketing"') }} as accepts_marketing,
        upper(trim("Currency")) as currency,
        {{ parse_amount('"Subtotal"') }} as subtotal_amount,
        {{ parse_amount('"Shipping"') }} as shipping_amount,
        {{ parse_amount('"Taxes"') }} as tax_amount,
        {{ parse_amount('"Total"') }} as total_amount,
        {{ parse_amount('"Discount Amount"') }} as discount_amount,
        {{ parse_amount('"Refunded Amount"') }} as refunded_amount,
        {{ clean_whitespace('"Discount Code"') }} as discount_code,
        "Billing Name" as billing_name,
        "Billing Street" as billing_street,
        "Billing City" as billing_city,
        "Billing Zip" as billing_postcode,
        "Billing Province" as billing_province,
        "Billing Country" as billing_country,
        "Billing Phone" as billing_phone,
        {{ split_to_list('"Tags"', ',') }} as tags,
        lower(trim("Source")) as source_channel,
        _extract_date as extract_date,
        _source_file as source_file,
        _line_number as source_line_number

    from current_order_rows
    where order_line_number = 1

),

with_fx_rate as (

    select
        first_rows.*,
        fx_rates.rate_date as fx_rate_date,
        {{ usd_per_unit_for('first_rows.currency', 'fx_rates.usd_per_unit') }} as usd_per_unit

    from first_rows
    asof left join fx_rates
        on first_rows.currency = fx_rates.currency
        and cast(first_rows.created_at as date) >= fx_rates.rate_date

),

with_country as (

    select
        with_fx_rate.*,
        country_codes.country_code as billing_country_code

    from with_fx_rate
    left join country_codes
        on {{ normalize_country_key('with_fx_rate.billing_country') }} = country_codes.country_key

),

normalized as (

    select
        *,
        {{ normalize_email('email') }} as email_normalized,
        {{ normalize_name('billing_name') }} as billing_name_normalized,
        phone_e164(billing_phone, coalesce(billing_country_code, 'US')) as billing_phone_e164

    from with_country

),

final as (

    select
        normalized.order_id,
        order_name,
        email,
        email_normalized,
        {{ is_valid_email('email_normalized') }} as is_email_valid,
        financial_status,
        fulfillment_status,
        created_at,
        paid_at,
        cancelled_at,
        accepts_marketing,
        currency,
        subtotal_amount,
        shipping_amount,
        tax_amount,
        total_amount,
        discount_amount,
        refunded_amount,
        usd_per_unit,
        case when currency <> 'USD' then fx_rate_date end as fx_rate_date,
        {{ convert_to_usd('subtotal_amount', 'usd_per_unit') }} as subtotal_amount_usd,
        {{ convert_to_usd('shipping_amount', 'usd_per_unit') }} as shipping_amount_usd,
        {{ convert_to_usd('tax_amount', 'usd_per_unit') }} as tax_amount_usd,
        {{ convert_to_usd('total_amount', 'usd_per_unit') }} as total_amount_usd,
        {{ convert_to_usd('discount_amount', 'usd_per_unit') }} as discount_amount_usd,
        {{ convert_to_usd('refunded_amount', 'usd_per_unit') }} as refunded_amount_usd,
        discount_code,
        billing_name,
        {{ first_name_part('billing_name_normalized') }} as billing_first_name_normalized,
        {{ last_name_part('billing_name_normalized') }} as billing_last_name_normalized,
        billing_street,
        billing_city,
        billing_postcode,
        {{ normalize_postcode('billing_postcode', 'billing_country_code') }} as billing_postcode_normalized,
        billing_province,
        billing_country,
        billing_country_code,
        billing_phone,
        billing_phone_e164,
        case when {{ clean_whitespace('billing_phone') }} is not null then billing_phone_e164 is not null end as is_billing_phone_valid,
        tags,
        list_contains(list_transform(tags, lambda tag: lower(tag)), 'test') as is_test_order,
        source_channel,
        line_counts.line_count,
        extract_date,
        source_file,
        source_line_number

    from normalized
    inner join line_counts
        on normalized.order_id = line_counts.order_id

)

select * from final
