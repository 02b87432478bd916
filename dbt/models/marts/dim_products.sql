-- One row per SKU of the products export: its product's current version, and the category the
-- shop files it under, from what the export says (its Type, then its tags, then its taxonomy
-- path), with the SKU-prefix convention of the product_categories seed as the last resort.
with

variants as (

    select * from {{ ref('stg_shopify__products') }}
    where sku is not null

),

category_names as (

    select distinct category from {{ ref('product_categories') }}

),

sku_prefixes as (

    select * from {{ ref('product_categories') }}

),

taxonomy_segments as (

    select * from {{ ref('product_taxonomy_categories') }}

),

-- A SKU two products carry (a slip in the shop's data): a live product's, then the one changed last.
skus as (

    select *
    from variants
    qualify row_number() over (
        partition by sku
        order by coalesce(status, '') = 'archived', extract_date desc, handle, variant_position
    ) = 1

),

type_categories as (

    select
        skus.sku,
        category_names.category

    from skus
    inner join category_names
        on lower(skus.product_type) = lower(category_names.category)

),

-- The first tag that names a category.
tag_categories as (

    select
        tagged.sku,
        arg_min(category_names.category, tagged.tag_position) as category

    from (
        select sku, unnest(tags) as tag, unnest(range(1, len(tags) + 1)) as tag_position
        from skus
    ) as tagged
    inner join category_names
        on lower(tagged.tag) = lower(category_names.category)
    group by tagged.sku

),

-- The deepest segment of the taxonomy path that the seed maps: the last one, else its nearest mapped parent.
taxonomy_categories as (

    select
        segments.sku,
        arg_max(taxonomy_segments.category, segments.depth) as category

    from (
        select
            sku,
            unnest(list_transform(string_split(taxonomy_path, '>'), lambda segment: trim(segment))) as segment,
            unnest(range(1, len(string_split(taxonomy_path, '>')) + 1)) as depth
        from skus
        where taxonomy_path is not null
    ) as segments
    inner join taxonomy_segments
        on lower(segments.segment) = lower(taxonomy_segments.taxonomy_segment)
    group by segments.sku

),

prefix_categories as (

    select
        skus.sku,
        sku_prefixes.category

    from skus
    inner join sku_prefixes
        on upper(split_part(skus.sku, '-', 1)) = sku_prefixes.sku_prefix

),

final as (

    select
        skus.sku,
        skus.handle,
        skus.title,
        skus.option_name,
        skus.option_value,
        skus.vendor,
        skus.product_type,
        skus.tags,
        skus.taxonomy_path,
        coalesce(
            type_categories.category, tag_categories.category, taxonomy_categories.category, prefix_categories.category,
            'Uncategorized'
        ) as category,
        case
            when type_categories.category is not null then 'product_type'
            when tag_categories.category is not null then 'tag'
            when taxonomy_categories.category is not null then 'taxonomy'
            when prefix_categories.category is not null then 'sku_prefix'
        end as category_source,
        skus.price,
        skus.compare_at_price,
        skus.status,
        skus.is_published,
        skus.status = 'archived' as is_archived,
        skus.inventory_qty,
        case when skus.inventory_qty is not null then skus.inventory_qty > 0 end as is_in_stock,
        skus.first_seen_date,
        skus.extract_date as last_changed_date

    from skus
    left join type_categories on skus.sku = type_categories.sku
    left join tag_categories on skus.sku = tag_categories.sku
    left join taxonomy_categories on skus.sku = taxonomy_categories.sku
    left join prefix_categories on skus.sku = prefix_categories.sku

)

select * from final
