"""Ground truth about the catalog, for evaluating recommendations: what each SKU really is, when its
product was on sale, and how popular it was meant to be."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from dagster_project.demo_exports.catalog import CATEGORIES, Catalog
from dagster_project.demo_exports.product_history import ProductHistory
from dagster_project.demo_exports.timeline import Timeline


def _dates(timeline: Timeline, days: np.ndarray, never: int | None = None) -> pl.Series:
    """Simulation days as dates; null for `never`."""
    dates = np.datetime64(timeline.sim_start) + np.asarray(days).astype("timedelta64[D]")
    return pl.Series(np.where(np.asarray(days) == never, np.datetime64("NaT"), dates) if never is not None else dates)


def catalog_truth(catalog: Catalog, timeline: Timeline) -> pl.DataFrame:
    """One row per variant: its product, the category the shop files it under, and its product's life."""
    product = catalog.variant_product
    return pl.DataFrame({
        "sku": pl.Series(catalog.sku, dtype=pl.String),
        "handle": pl.Series(catalog.handle[product], dtype=pl.String),
        "title": pl.Series(catalog.title[product], dtype=pl.String),
        "option_value": pl.Series(catalog.option_value, dtype=pl.String),
        "category": pl.Series(np.array(CATEGORIES, dtype=object)[catalog.category[product]], dtype=pl.String),
        "vendor": pl.Series(catalog.vendor[product], dtype=pl.String),
        "taxonomy_path": pl.Series(catalog.taxonomy[product], dtype=pl.String).replace("", None),
        "launch_price_usd": catalog.base_price_cents / 100,
        "sales_weight": catalog.sales_weight / catalog.sales_weight.sum(),
        "created_date": _dates(timeline, catalog.created_day[product]),
        "launch_date": _dates(timeline, catalog.launch_day[product]),
        "archive_date": _dates(timeline, catalog.archive_day[product], never=timeline.total_days),
        "in_products_export": catalog.in_export[product],
        "is_inventory_tracked": catalog.is_tracked[product],
    })


def availability_truth(catalog: Catalog, history: ProductHistory, timeline: Timeline) -> pl.DataFrame:
    """One row per spell a product could be bought (active and in stock): `available_from`, and
    `available_until` (exclusive; null when it still could at the end of the simulation)."""
    sellable = (history.status == "active") & ~history.out_of_stock
    product = history.product
    changed = np.r_[True, (product[1:] != product[:-1]) | (sellable[1:] != sellable[:-1])]
    spells = pl.DataFrame({"product": product, "day": history.day, "sellable": sellable}).filter(pl.Series(changed))
    spells = spells.with_columns(pl.col("day").shift(-1).over("product").alias("until")).filter(pl.col("sellable"))
    until = spells["until"].fill_null(timeline.total_days).to_numpy()
    return pl.DataFrame({
        "handle": pl.Series(catalog.handle[spells["product"].to_numpy()], dtype=pl.String),
        "available_from": _dates(timeline, spells["day"].to_numpy()),
        "available_until": _dates(timeline, until, never=timeline.total_days),
    })


def write_product_truth(catalog: Catalog, history: ProductHistory, timeline: Timeline, folder: Path) -> int:
    """Write products.parquet and product_availability.parquet; return the number of files."""
    catalog_truth(catalog, timeline).write_parquet(folder / "products.parquet")
    availability_truth(catalog, history, timeline).write_parquet(folder / "product_availability.parquet")
    return 2
