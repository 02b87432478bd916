"""Shopify orders export rows: one row per line item, order-level cells only on an order's first row."""

from __future__ import annotations

import polars as pl

from dagster_project.demo_exports.delivery import DeliverySchedule
from dagster_project.demo_exports.formats import money, shop_local_time
from dagster_project.demo_exports.timeline import Timeline

ORDER_COLUMNS = [
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Accepts Marketing", "Currency",
    "Subtotal", "Shipping", "Taxes", "Total", "Discount Code", "Discount Amount", "Created at",
    "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem sku",
    "Billing Name", "Billing Street", "Billing City", "Billing Zip", "Billing Province", "Billing Country",
    "Billing Phone", "Cancelled at", "Refunded Amount", "Id", "Tags", "Source",
]
_LINE_COLUMNS = ["Id", "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem sku"]
ORDER_LEVEL_COLUMNS = [c for c in ORDER_COLUMNS if c not in _LINE_COLUMNS]
# Real Shopify columns outside the contract; they appear on some days and must be ignored.
EXTRA_COLUMNS = {"Lineitem compare at price": "Lineitem price", "Notes": "Tags"}
_NOTES = ("Leave at the back door, please", 'Gift wrap, card says "Happy birthday!"', "Call on arrival")


def _order_cells(orders: pl.DataFrame) -> pl.DataFrame:
    return orders.select(
        "order_index",
        pl.col("order_name").alias("Name"),
        pl.col("email").alias("Email"),
        pl.when(pl.col("accepts_marketing")).then(pl.lit("yes")).otherwise(pl.lit("no")).alias("Accepts Marketing"),
        pl.col("currency").alias("Currency"),
        money(pl.col("subtotal_cents")).alias("Subtotal"),
        money(pl.col("shipping_cents")).alias("Shipping"),
        money(pl.col("tax_cents")).alias("Taxes"),
        money(pl.col("total_cents")).alias("Total"),
        pl.col("discount_code").alias("Discount Code"),
        money(pl.col("discount_cents")).alias("Discount Amount"),
        shop_local_time(pl.col("created_at")).alias("Created at"),
        pl.col("billing_name").alias("Billing Name"),
        pl.col("billing_street").alias("Billing Street"),
        pl.col("billing_city").alias("Billing City"),
        pl.col("billing_zip").alias("Billing Zip"),
        pl.col("billing_province").alias("Billing Province"),
        pl.col("billing_country_shown").alias("Billing Country"),
        pl.col("billing_phone").alias("Billing Phone"),
        pl.col("order_id").cast(pl.String).alias("Id"),
        pl.col("tags").alias("Tags"),
        pl.col("source").alias("Source"),
        pl.when(pl.col("order_index") % 23 == 0)
        .then(pl.lit(_NOTES[0]))
        .when(pl.col("order_index") % 29 == 0).then(pl.lit(_NOTES[1]))
        .when(pl.col("order_index") % 31 == 0).then(pl.lit(_NOTES[2]))
        .alias("Notes"),
    )


def order_rows(orders: pl.DataFrame, lines: pl.DataFrame, versions: pl.DataFrame, timeline: Timeline,
               schedule: DeliverySchedule) -> pl.DataFrame:
    """Export rows with their `extract_offset`: the last version of each order per extract day."""
    offsets = schedule.extract_offset("orders", timeline.window_offset(versions["at"].to_numpy()))
    current = (
        versions.with_columns(pl.Series("extract_offset", offsets))
        .filter(pl.col("extract_offset") >= 0)
        .unique(subset=["order_index", "extract_offset"], keep="last", maintain_order=True)
        .select(
            "order_index", "extract_offset", "at",
            pl.col("financial_status").alias("Financial Status"),
            shop_local_time(pl.col("paid_at")).alias("Paid at"),
            pl.col("fulfillment_status").alias("Fulfillment Status"),
            shop_local_time(pl.col("cancelled_at")).alias("Cancelled at"),
            money(pl.col("refunded_cents")).alias("Refunded Amount"),
        )
    )
    line_cells = lines.select(
        "order_index", "line_no",
        pl.col("quantity").cast(pl.String).alias("Lineitem quantity"),
        pl.col("product_name").alias("Lineitem name"),
        money(pl.col("price_cents")).alias("Lineitem price"),
        pl.when(pl.col("line_no") % 3 == 0).then(money(pl.col("price_cents") * 5 // 4))
        .alias("Lineitem compare at price"),
        pl.col("sku").alias("Lineitem sku"),
    )
    order_level = ORDER_LEVEL_COLUMNS + ["Notes"]
    rows = (
        current.join(_order_cells(orders), on="order_index", how="left")
        .join(line_cells, on="order_index", how="left")
        .sort(["extract_offset", "at", "order_index", "line_no"])
        .with_columns(pl.when(pl.col("line_no") == 0).then(pl.col(c)).alias(c) for c in order_level)
    )
    return rows.select(["extract_offset", "order_index", *ORDER_COLUMNS, *EXTRA_COLUMNS])


def columns_on_day(extra_days: dict[str, frozenset[int]]):
    """Header of each extract day: the contract columns plus the extras switched on that day."""
    def columns(offset: int) -> list[str]:
        header = list(ORDER_COLUMNS)
        for extra, after in EXTRA_COLUMNS.items():
            if offset in extra_days[extra]:
                header.insert(header.index(after) + 1, extra)
        return header
    return columns
