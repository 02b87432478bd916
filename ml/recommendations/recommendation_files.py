"""Where the nightly recommendations are written, as files the feature store serves (no Feast here).

`feature_repo` declares the views over these files: `customer_recommendations` (customer entity)
and `similar_products` (product entity, join key `sku`). One folder per scoring date, like the
models' scores, so a failed night leaves the previous one in place.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import polars as pl

RECOMMENDATIONS_TABLE = "customer_recommendations"
SIMILAR_PRODUCTS_TABLE = "similar_products"
EMPTY_FOLDER = "_empty"
"""The folder of the schema-only file written before the first night, as for the scores."""

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


def scoring_timestamp(scored_on: date) -> datetime:
    """The event time of a night's rows: the end of the scoring date, UTC (as for the scores)."""
    return datetime.combine(scored_on + timedelta(days=1), time(), tzinfo=timezone.utc)


def _write(frame: pl.DataFrame, columns: dict, table: str, scored_on: date, feature_files_dir: Path, keep_days: int) -> Path:
    root = feature_files_dir / table
    folder = root / scored_on.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    path, temporary = folder / "data_0.parquet", folder / "data_0.parquet.tmp"
    frame.select(pl.col(name).cast(dtype) for name, dtype in columns.items()).write_parquet(temporary)
    temporary.replace(path)
    oldest = (scored_on - timedelta(days=keep_days)).isoformat()
    for day in root.iterdir():
        if day.is_dir() and not day.name.startswith("_") and day.name < oldest:
            shutil.rmtree(day)
    return path


def write_recommendations(lists: pl.DataFrame, scored_on: date, feature_files_dir: Path, keep_days: int) -> Path:
    """Write one row per customer (RECOMMENDATION_COLUMNS) as `<dir>/customer_recommendations/<date>/data_0.parquet`."""
    return _write(lists, RECOMMENDATION_COLUMNS, RECOMMENDATIONS_TABLE, scored_on, feature_files_dir, keep_days)


def write_similar_products(similar: pl.DataFrame, scored_on: date, feature_files_dir: Path, keep_days: int) -> Path:
    """Write one row per SKU (SIMILAR_PRODUCT_COLUMNS) as `<dir>/similar_products/<date>/data_0.parquet`."""
    return _write(similar, SIMILAR_PRODUCT_COLUMNS, SIMILAR_PRODUCTS_TABLE, scored_on, feature_files_dir, keep_days)


def latest_scoring_date(feature_files_dir: Path, table: str) -> date | None:
    """The newest date folder of a table, if any night wrote one."""
    root = feature_files_dir / table
    dates = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("_")) if root.exists() else []
    return date.fromisoformat(dates[-1]) if dates else None
