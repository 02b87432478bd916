"""Where the nightly recommendations are written, as files the feature store serves (no Feast here).

`feature_repo` declares the views over these files: `customer_recommendations` (customer entity)
and `similar_products` (product entity, join key `sku`). One folder per scoring date, like the
models' scores, so a failed night leaves the previous one in place.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from ml.nightly_files import write_nightly_table

RECOMMENDATIONS_TABLE = "customer_recommendations"
SIMILAR_PRODUCTS_TABLE = "similar_products"

RECOMMENDATION_COLUMNS = {
    "customer_id": pl.String, "event_timestamp": pl.Datetime("us", "UTC"),
    "recommended_skus": pl.List(pl.String), "recommended_titles": pl.List(pl.String),
    "recommendation_reasons": pl.List(pl.String), "recommendations_personalized": pl.Boolean,
    "recommender_version": pl.String,
}
SIMILAR_PRODUCT_COLUMNS = {
    "sku": pl.String, "event_timestamp": pl.Datetime("us", "UTC"),
    "similar_skus": pl.List(pl.String), "similar_titles": pl.List(pl.String),
    "similar_reasons": pl.List(pl.String), "recommender_version": pl.String,
}


def write_recommendations(lists: pl.DataFrame, scored_on: date, feature_files_dir: Path, keep_days: int) -> Path:
    """Write one row per customer (RECOMMENDATION_COLUMNS) as `<dir>/customer_recommendations/<date>/data_0.parquet`."""
    return write_nightly_table(lists, RECOMMENDATION_COLUMNS, RECOMMENDATIONS_TABLE, scored_on, feature_files_dir, keep_days)


def write_similar_products(similar: pl.DataFrame, scored_on: date, feature_files_dir: Path, keep_days: int) -> Path:
    """Write one row per SKU (SIMILAR_PRODUCT_COLUMNS) as `<dir>/similar_products/<date>/data_0.parquet`."""
    return write_nightly_table(similar, SIMILAR_PRODUCT_COLUMNS, SIMILAR_PRODUCTS_TABLE, scored_on, feature_files_dir, keep_days)
