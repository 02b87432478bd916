"""The suite on the order marts: orders and their lines tell the same story.

Shopify's subtotal is the line items less discounts, and the total adds shipping and taxes (or
only shipping, where prices include taxes, as they do in the EU and the UK). An
export that drops line rows, or a fold of line rows into orders that goes wrong, breaks these
identities before any revenue feature is computed from them.
"""

from __future__ import annotations

import duckdb

from data_quality.rules import Batch, Rule, Severity, Suite
from data_quality.thresholds import MartThresholds

ORDERS_TABLE = "marts.fct_orders"
ORDER_LINES_TABLE = "marts.fct_order_lines"


def order_reconciliation_suite(t: MartThresholds) -> Suite:
    """Rules across fct_orders and fct_order_lines."""
    mostly = 1 - t.max_unreconciled_order_share
    return Suite(name="marts_order_reconciliation", rules=(
        Rule("orders_reconcile_with_lines", Severity.BLOCKING,
             f"Every order has lines, and its subtotal is its lines less its discount (± {t.amount_tolerance:g}).",
             "orders", lambda gxe: [
                 gxe.ExpectColumnValuesToNotBeNull(column="lines_amount"),
                 gxe.ExpectColumnValuesToBeBetween(column="subtotal_gap", max_value=t.amount_tolerance, mostly=mostly),
             ]),
        Rule("order_totals_add_up", Severity.BLOCKING,
             f"Every order's total is its subtotal plus shipping and taxes, or plus shipping where prices include taxes (± {t.amount_tolerance:g}).",
             "orders", lambda gxe: [gxe.ExpectColumnValuesToBeBetween(column="total_gap", max_value=t.amount_tolerance, mostly=mostly)]),
    ))


def build_order_reconciliation_batches(connection: duckdb.DuckDBPyConnection) -> dict[str, Batch]:
    """One row per order: its amounts, the sum of its lines and the gaps between them."""
    orders = connection.execute(
        f"""WITH lines AS (SELECT order_id, sum(line_amount) AS lines_amount, count(*) AS lines FROM {ORDER_LINES_TABLE} GROUP BY 1)
            SELECT orders.order_id, orders.currency, orders.subtotal_amount::DOUBLE AS subtotal_amount,
                orders.discount_amount::DOUBLE AS discount_amount, lines.lines_amount::DOUBLE AS lines_amount,
                orders.total_amount::DOUBLE AS total_amount,
                abs(orders.subtotal_amount - (lines.lines_amount - orders.discount_amount))::DOUBLE AS subtotal_gap,
                least(
                    abs(orders.total_amount - (orders.subtotal_amount + orders.shipping_amount + orders.tax_amount)),
                    abs(orders.total_amount - (orders.subtotal_amount + orders.shipping_amount))
                )::DOUBLE AS total_gap
            FROM {ORDERS_TABLE} orders LEFT JOIN lines USING (order_id) ORDER BY orders.order_id"""
    ).df()
    return {"orders": Batch(orders, ("order_id",))}
