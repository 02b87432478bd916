"""The nightly tables apps are served (recommendations, next-best actions): one Parquet file per
scoring date under the feature files, as the models' scores are, so a failed night leaves the
previous one in place. `feature_repo` declares the Feast views over them; nothing here needs Feast.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import polars as pl

EMPTY_FOLDER = "_empty"
"""The folder of the schema-only file written before the first night, as for the scores."""


def scoring_timestamp(scored_on: date) -> datetime:
    """The event time of a night's rows: the end of the scoring date, UTC (as for the scores)."""
    return datetime.combine(scored_on + timedelta(days=1), time(), tzinfo=timezone.utc)


def write_nightly_table(frame: pl.DataFrame, columns: Mapping[str, Any], table: str, scored_on: date,
                        feature_files_dir: Path, keep_days: int) -> Path:
    """Write `frame`'s `columns` (name -> polars type, cast to it) as `<dir>/<table>/<date>/data_0.parquet`, atomically,
    and drop the dates older than `keep_days`."""
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


def latest_scoring_date(feature_files_dir: Path, table: str) -> date | None:
    """The newest date folder of a table, if any night wrote one."""
    root = feature_files_dir / table
    dates = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("_")) if root.exists() else []
    return date.fromisoformat(dates[-1]) if dates else None
