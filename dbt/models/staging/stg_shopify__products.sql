-- One row per variant of each product's current version: the product's rows in the latest file
-- that holds it. Shopify writes the product-level columns on a product's first row only; they
-- are filled down to its other rows from that first row (by line number, in the same file).
with

product_rows as (

    select
        trim("Handle") as handle,
        {{ clean_whitespace('"Variant SKU"') }} as sku,
        *

    from {{ source('raw', 'ecommerce_products') }}

),

-- When a SKU or a product first reached the platform (an initial load dates what existed before it).
first_seen as (

    select
        handle,
        sku,
        min(_extract_date) over (partition by handle) as handle_first_seen_date,
        case when sku is not null then min(_extract_date) over (partition by sku) end as sku_first_seen_date

    from product_rows
    qualify row_number() over (partition by handle, sku order by _extract_date) = 1

),

current_rows as (

    select *
    from product_rows
    qualify _extract_date = max(_extract_date) over (partition by handle)

),

filled_down as (

    select
        handle,
        row_number() over product_file as variant_position,
        sku,
        first_value("Title") over product_file as title,
        first_value("Body (HTML)") over product_file as body_html,
        first_value("Vendor") over product_file as vendor,
        first_value("Product Category") over product_file as taxonomy_path,
        first_value("Type") over product_file as product_type,
        first_value("Tags") over product_file as tags,
        first_value("Published") over product_file as published,
        first_value("Option1 Name") over product_file as option_name,
        first_value("Status") over product_file as status,
        "Option1 Value" as option_value,
        "Variant Price" as price,
        "Variant Compare At Price" as compare_at_price,
        "Variant Inventory Qty" as inventory_qty,
        _extract_date as extract_date,
        _source_file as source_file,
        _line_number as source_line_number

    from current_rows
    window product_file as (partition by handle order by _line_number rows between unbounded preceding and unbounded following)

),

final as (

    select
        filled_down.handle || '#' || filled_down.variant_position as variant_id,
        filled_down.handle,
        filled_down.variant_position,
        filled_down.sku,
        {{ clean_whitespace('title') }} as title,
        body_html,
        {{ clean_whitespace('vendor') }} as vendor,
        {{ clean_whitespace('taxonomy_path') }} as taxonomy_path,
        {{ clean_whitespace('product_type') }} as product_type,
        {{ split_to_list('tags', ',') }} as tags,
        {{ parse_boolean('published') }} as is_published,
        lower(trim(status)) as status,
        {{ clean_whitespace('option_name') }} as option_name,
        {{ clean_whitespace('option_value') }} as option_value,
        {{ parse_amount('price') }} as price,
        {{ parse_amount('compare_at_price') }} as compare_at_price,
        cast(inventory_qty as integer) as inventory_qty,
        coalesce(first_seen.sku_first_seen_date, first_seen.handle_first_seen_date) as first_seen_date,
        filled_down.extract_date,
        filled_down.source_file,
        filled_down.source_line_number

    from filled_down
    left join first_seen
        on filled_down.handle = first_seen.handle
        and filled_down.sku is not distinct from first_seen.sku

)

select * from final
