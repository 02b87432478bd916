"""The suite on the product catalog's coverage of what was sold: order lines whose SKU the products
export never carried.

The export contract allows them (a product deleted before the first export, or sold through a
channel the export does not cover): fct_order_lines keeps their lines and this suite counts them.
A few are normal; many mean the products export is missing products, or the SKUs are written
differently in the two exports, and every product-level figure (categories, recommendations) would
leave those sales out.
"""

from __future__ import annotations

import duckdb

from data_quality.rules import Batch, Rule, Severity, Suite
from data_quality.thresholds import MartThresholds

ORDER_LINES_TABLE = "marts.fct_order_lines"
PRODUCTS_TABLE = "marts.dim_products"
SHAREABLE = ("sku",)
"""A SKU names a product, not a person: failing samples show it."""


def product_coverage_suite(t: MartThresholds) -> Suite:
    """Rules across fct_order_lines and dim_products."""
    return Suite(name="marts_product_coverage", rules=(
        Rule("sold_skus_in_product_catalog", Severity.WARNING,
             f"At most {t.max_unknown_sku_share:.0%} of the SKUs order lines carry are missing from the products export "
             "(dim_products); their lines are kept. Not judged when no products export was delivered.",
             "skus", lambda gxe: [gxe.ExpectColumnValuesToBeInSet(
                 column="is_in_product_catalog", value_set=[True], mostly=1 - t.max_unknown_sku_share)]),
    ))


def build_product_coverage_batches(connection: duckdb.DuckDBPyConnection) -> dict[str, Batch]:
    """One row per SKU sold: its order lines, and whether dim_products has it (null when dim_products is empty)."""
    skus = connection.execute(
        f"""WITH sold AS (SELECT sku, count(*) AS order_lines FROM {ORDER_LINES_TABLE} WHERE sku IS NOT NULL GROUP BY 1)
            SELECT sold.sku, sold.order_lines,
                CASE WHEN (SELECT count(*) FROM {PRODUCTS_TABLE}) > 0 THEN products.sku IS NOT NULL END AS is_in_product_catalog
            FROM sold LEFT JOIN {PRODUCTS_TABLE} products USING (sku)
            ORDER BY is_in_product_catalog NULLS FIRST, sold.order_lines DESC, sold.sku"""
    ).df()
    return {"skus": Batch(skus, ("sku", "order_lines"))}
