"""The recommenders' inputs read from the warehouse marts: order lines with their order's fate,
the catalog as it stands, and customers with their stated interests and consent."""

from __future__ import annotations

from datetime import datetime

import duckdb
import polars as pl

from ml.measurement.assignment_ledger import holdout_customers
from ml.recommendations.inputs import RecommendationInputs

PURCHASES_SQL = """
select lines.customer_id, lines.sku, lines.order_created_at as ordered_at, lines.quantity,
       -- A cancelled or fully refunded order's items were sent back: no evidence of liking them.
       coalesce(orders.is_cancelled or orders.financial_status in ('refunded', 'voided'), false) as is_returned
from marts.fct_order_lines as lines
inner join marts.fct_orders as orders using (order_id)
where lines.customer_id is not null and lines.sku is not null and lines.order_created_at < ?
"""
PRODUCTS_SQL = """
with catalog as (
    select sku,
           -- The variant as customers know it: "Trail Runner - Navy", the title alone for a single variant.
           case when option_name is null or option_name = 'Title' or option_value is null then title
                else title || ' - ' || option_value end as title,
           category, vendor, product_type, coalesce(tags, []) as tags, cast(price as double) as price,
           is_archived, is_published, is_in_stock, cast(first_seen_date as date) as first_seen_date
    from marts.dim_products
),
-- SKUs sold but absent from the products export (no export at all, or a channel it does not
-- cover): known by their order lines only, counted on sale while sold in the last 90 days.
sold_only as (
    select sku, arg_max(product_name, order_created_at) as title, null as category, null as vendor,
           null as product_type, []::varchar[] as tags, cast(median(unit_price) as double) as price,
           max(order_created_at) < cast(? as timestamp) - interval 90 days as is_archived, true as is_published,
           null::boolean as is_in_stock, cast(min(order_created_at) as date) as first_seen_date
    from marts.fct_order_lines
    where sku is not null and sku not in (select sku from catalog) and order_created_at < ?
    group by sku
)
select * from catalog
union all by name
select * from sold_only
"""
CUSTOMERS_SQL = """
select customer_id, coalesce(interests, []) as interests, country_code,
       coalesce(is_personalization_opted_out, false) as is_personalization_withheld
from marts.dim_customers
"""


def read_inputs(connection: duckdb.DuckDBPyConnection, as_of: datetime) -> RecommendationInputs:
    """Purchases before `as_of` (naive UTC), the catalog and every customer (withheld from personalization:
    opted out, or in the measurement holdout)."""
    naive = as_of.replace(tzinfo=None)
    purchases = connection.sql(PURCHASES_SQL, params=[naive]).pl()
    products = connection.sql(PRODUCTS_SQL, params=[naive, naive]).pl()
    customers = connection.sql(CUSTOMERS_SQL).pl()
    # The measurement holdout gets what an opted-out customer gets: the shop's list, nothing personal.
    held_out = holdout_customers(connection)
    customers = customers.with_columns(pl.col("is_personalization_withheld") | pl.col("customer_id").is_in(list(held_out)))
    return RecommendationInputs.of(purchases, products, customers, naive)
