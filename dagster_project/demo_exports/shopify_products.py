"""Shopify products export rows: one row per variant, product-level cells only on a product's first row.

The first file is an initial load of every product created before the window (archived ones too:
Shopify never deletes a product from its export, it archives it); each later file re-issues the
products that changed that day, in their state at the end of it.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from dagster_project.demo_exports.catalog import Catalog
from dagster_project.demo_exports.delivery import DeliverySchedule
from dagster_project.demo_exports.formats import money
from dagster_project.demo_exports.product_history import ACTIVE, ProductHistory
from dagster_project.demo_exports.timeline import Timeline

PRODUCT_COLUMNS = [
    "Handle", "Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags", "Published",
    "Option1 Name", "Option1 Value", "Variant SKU", "Variant Price", "Variant Compare At Price", "Variant Inventory Qty", "Status",
]
PRODUCT_LEVEL_COLUMNS = ["Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags", "Published", "Option1 Name", "Status"]


def _exported_versions(catalog: Catalog, history: ProductHistory, timeline: Timeline, schedule: DeliverySchedule) -> pl.DataFrame:
    """version, product and extract_offset: each exported product's last version of each file."""
    offset = np.maximum(history.day - timeline.first_window_day, 0)  # everything before the window: the initial load
    offset = np.where(history.day > timeline.last_window_day, -1, offset)
    versions = pl.DataFrame({
        "version": np.arange(len(history.product)), "product": history.product,
        "extract_offset": schedule.extract_offset("products", offset),
    })
    return (versions.filter((pl.col("extract_offset") >= 0) & pl.Series(catalog.in_export[history.product]))
            .unique(subset=["product", "extract_offset"], keep="last", maintain_order=True))


def _variant_quantities(catalog: Catalog, history: ProductHistory, variant: np.ndarray, version: np.ndarray,
                        first: np.ndarray) -> list[str | None]:
    """Inventory per variant: its share of the product's units, at least one while in stock; an
    oversold product shows its shortfall on its first variant; empty when not tracked."""
    product = catalog.variant_product[variant]
    share = catalog.sales_weight[variant] / catalog.popularity[product]
    units = history.stock_units[version]
    quantity = np.where(history.out_of_stock[version], np.where(first, units, 0),
                        np.maximum(1, np.round(units * share)).astype(np.int64))
    return [str(q) if tracked else None for q, tracked in zip(quantity, catalog.is_tracked[product])]


def product_rows(catalog: Catalog, history: ProductHistory, timeline: Timeline, schedule: DeliverySchedule) -> pl.DataFrame:
    """Export rows with their `extract_offset`, in file order: products, then their variants."""
    variants = pl.DataFrame({"variant": np.arange(len(catalog.sku)), "product": catalog.variant_product})
    rows = (_exported_versions(catalog, history, timeline, schedule)
            .join(variants, on="product", how="inner").sort(["extract_offset", "product", "variant"]))
    variant, version, product = (rows[c].to_numpy() for c in ("variant", "version", "product"))
    first = np.r_[True, (product[1:] != product[:-1]) | (rows["extract_offset"].to_numpy()[1:] != rows["extract_offset"].to_numpy()[:-1])]
    charged, regular = history.prices_cents(catalog, variant, version)
    status = history.status[version]
    published = np.where((status == ACTIVE) & ~catalog.is_hidden[product], "TRUE", "FALSE")
    cells = pl.DataFrame({
        "extract_offset": rows["extract_offset"],
        "Handle": catalog.handle[product], "Title": catalog.title[product], "Body (HTML)": catalog.body_html[product],
        "Vendor": catalog.vendor[product], "Product Category": catalog.taxonomy[product], "Type": catalog.product_type[product],
        "Tags": catalog.tags[product], "Published": published, "Option1 Name": catalog.option_name[product],
        "Option1 Value": catalog.option_value[variant], "Variant SKU": catalog.sku[variant],
        "price": charged, "compare_at": np.where(charged < regular, regular, -1),
        "Variant Inventory Qty": _variant_quantities(catalog, history, variant, version, first), "Status": status,
        "first": first,
    }, schema_overrides={c: pl.String for c in PRODUCT_COLUMNS if c not in ("Variant Price", "Variant Compare At Price")})
    # Shopify leaves a product's columns blank on its other variants' rows; an empty value is blank anyway.
    return cells.with_columns(
        *(pl.when(pl.col("first") & (pl.col(c) != "")).then(pl.col(c)).alias(c) for c in PRODUCT_LEVEL_COLUMNS),
        money(pl.col("price")).alias("Variant Price"),
        pl.when(pl.col("compare_at") >= 0).then(money(pl.col("compare_at"))).alias("Variant Compare At Price"),
    ).select("extract_offset", *PRODUCT_COLUMNS)
