"""The recommenders' inputs read from the warehouse marts: order lines with their order's fate,
the catalog as it stands, and customers with their stated interests and consent."""

from __future__ import annotations

from datetime import datetime

import duckdb

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
select sku,
       -- The variant as customers know it: "Trail Runner - Navy", the title alone for a single variant.
       case when option_name is null or option_name = 'Title' or option_value is null then title
            else title || ' - ' || option_value end as title,
       category, vendor, product_type, coalesce(tags, []) as tags, cast(price as double) as price,
       is_archived, is_published, is_in_stock, cast(first_seen_date as date) as first_seen_date
from marts.dim_products
"""
CUSTOMERS_SQL = """
select customer_id, coalesce(interests, []) as interests, country_code,
       coalesce(is_personalization_opted_out, false) as is_personalization_opted_out
from marts.dim_customers
"""


def read_inputs(connection: duckdb.DuckDBPyConnection, as_of: datetime) -> RecommendationInputs:
    """Purchases before `as_of` (naive UTC), the catalog and every customer."""
    naive = as_of.replace(tzinfo=None)
    purchases = connection.sql(PURCHASES_SQL, params=[naive]).pl()
    return RecommendationInputs.of(purchases, connection.sql(PRODUCTS_SQL).pl(), connection.sql(CUSTOMERS_SQL).pl(), naive)
