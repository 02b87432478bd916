"""Ground truth for judging recommendations: what each person and product is like in the taste
model, and what people go on to buy after the last export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from dagster_project.demo_exports.world import World


def product_taste_truth(world: World) -> pl.DataFrame:
    """One row per product: its kind, line, taste vector, re-buy cycle and complement products."""
    catalog, taste = world.catalog, world.taste
    handles = catalog.handle
    return pl.DataFrame({
        "handle": pl.Series(handles, dtype=pl.String),
        "kind": pl.Series(catalog.kind_noun, dtype=pl.String),
        "series": pl.Series(catalog.series, dtype=pl.String),
        "rebuy_days": taste.rebuy_days,
        "complement_handles": pl.Series([[str(handles[c]) for c in row if c >= 0] for row in taste.complements],
                                        dtype=pl.List(pl.String)),
        "taste": pl.Series(taste.product.astype(np.float32)),
    })


def future_purchases(world: World) -> pl.DataFrame:
    """One row per line item bought after the last export (never exported): `person_id`, `sku`,
    `handle`, `purchased_date`, `days_after_window`, `quantity`, `is_cancelled`."""
    timeline, catalog = world.timeline, world.catalog
    final = world.order_versions.group_by("order_index", maintain_order=True).last()
    orders = (world.orders.orders.filter(~pl.col("is_test") & (pl.col("sim_day") > timeline.last_window_day))
              .join(final.select("order_index", "cancelled_at", "financial_status"), on="order_index", how="left")
              .select("order_index", "person_index", "sim_day",
                      ((pl.col("cancelled_at").fill_null(-1) >= 0) | (pl.col("financial_status") == "voided"))
                      .alias("is_cancelled")))
    handle_of_sku = dict(zip(catalog.sku, catalog.handle[catalog.variant_product]))
    lines = world.orders.lines.join(orders, on="order_index", how="inner")
    sim_start = np.datetime64(timeline.sim_start)
    return lines.select(
        pl.Series("person_id", world.people["person_id"].to_numpy()[lines["person_index"].to_numpy()], dtype=pl.String),
        "sku",
        pl.col("sku").replace_strict(handle_of_sku, default=None, return_dtype=pl.String).alias("handle"),
        pl.Series("purchased_date", sim_start + lines["sim_day"].to_numpy().astype("timedelta64[D]")),
        (pl.col("sim_day") - timeline.last_window_day).alias("days_after_window"),
        "quantity", "is_cancelled",
    ).sort("purchased_date", "person_id", "sku")


def write_taste_truth(world: World, folder: Path) -> int:
    """Write product_taste.parquet and future_purchases.parquet; return the number of files."""
    product_taste_truth(world).write_parquet(folder / "product_taste.parquet")
    future_purchases(world).write_parquet(folder / "future_purchases.parquet")
    return 2
