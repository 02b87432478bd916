"""Feature snapshot tables exported as Parquet for Feast's offline store: one folder per table,
one file per snapshot date (`<table>/<YYYY-MM-DD>/data_0.parquet`).

A nightly run appends a day, so only that day's file is written. A date whose rows changed
(a full rebuild, an erasure) is rewritten and a date that no longer exists is removed: a manifest
keeps each date's row count and an order-independent digest of its rows.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

FEATURE_SCHEMA = "features"
MANIFEST = "_manifest.json"
# The table's columns and types when its files were last written.
COLUMNS = "_columns.json"
# The earliest snapshot date written to the files but not yet to the online store.
ONLINE_PENDING = "_online_pending.json"
EMPTY_TABLE_FOLDER = "_empty"
# More changed dates than this are written by one partitioned COPY rather than one COPY each.
_BULK_WRITE_DATES = 8


@dataclass(frozen=True)
class FeatureFileExport:
    """What one export of one feature table changed on disk."""

    table: str
    dates_written: list[date]
    dates_removed: list[date]
    rows_written: int
    total_rows: int
    total_dates: int
    latest_snapshot_date: date | None


def feature_table_directory(root: Path, table: str) -> Path:
    return root / table


def export_feature_table(connection: duckdb.DuckDBPyConnection, table: str, root: Path) -> FeatureFileExport:
    """Bring `<root>/<table>` in line with `features.<table>`, writing only dates that changed."""
    directory = feature_table_directory(root, table)
    directory.mkdir(parents=True, exist_ok=True)
    manifest_path = directory / MANIFEST
    previous = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    current = {
        day.isoformat(): [rows, str(digest)]
        for day, rows, digest in connection.sql(
            f"SELECT snapshot_date, count(*), bit_xor(hash(customer_id, feature_hash)) "
            f"FROM {FEATURE_SCHEMA}.{table} GROUP BY snapshot_date"
        ).fetchall()
    }
    # A table whose columns changed (a column that became a list, a new feature) is rewritten
    # whole: Feast reads the folder as one dataset, so every file must have the same schema.
    columns_path = directory / COLUMNS
    columns = [list(column) for column in connection.sql(f"DESCRIBE {FEATURE_SCHEMA}.{table}").fetchall()]
    if not columns_path.exists() or json.loads(columns_path.read_text()) != columns:
        previous = {}
        shutil.rmtree(directory / EMPTY_TABLE_FOLDER, ignore_errors=True)
    changed = sorted(day for day, summary in current.items() if previous.get(day) != summary or not (directory / day).exists())
    removed = sorted(day for day in previous if day not in current)
    if len(changed) > _BULK_WRITE_DATES:
        _write_dates_partitioned(connection, table, directory, changed)
    else:
        for day in changed:
            _write_date(connection, table, directory, day)
    for day in removed:
        shutil.rmtree(directory / day, ignore_errors=True)
    _keep_schema_file(connection, table, directory, empty=not current)
    if changed:
        pending = online_pending_since(root, table)
        earliest = min(date.fromisoformat(changed[0]), pending) if pending else date.fromisoformat(changed[0])
        (directory / ONLINE_PENDING).write_text(json.dumps({"since": earliest.isoformat()}))
    # The manifest is written last: an export interrupted halfway is redone by the next one.
    columns_path.write_text(json.dumps(columns))
    manifest_path.write_text(json.dumps(current, indent=0, sort_keys=True))
    return FeatureFileExport(
        table=table,
        dates_written=[date.fromisoformat(day) for day in changed],
        dates_removed=[date.fromisoformat(day) for day in removed],
        rows_written=sum(current[day][0] for day in changed),
        total_rows=sum(rows for rows, _ in current.values()),
        total_dates=len(current),
        latest_snapshot_date=date.fromisoformat(max(current)) if current else None,
    )


def online_pending_since(root: Path, table: str) -> date | None:
    """The earliest snapshot date of the table written as Parquet since the online store last caught up."""
    path = feature_table_directory(root, table) / ONLINE_PENDING
    return date.fromisoformat(json.loads(path.read_text())["since"]) if path.exists() else None


def clear_online_pending(root: Path, table: str) -> None:
    (feature_table_directory(root, table) / ONLINE_PENDING).unlink(missing_ok=True)


def latest_snapshot_date(root: Path, table: str) -> date | None:
    """The newest snapshot date in the table's files, from its manifest."""
    path = feature_table_directory(root, table) / MANIFEST
    days = json.loads(path.read_text()) if path.exists() else {}
    return date.fromisoformat(max(days)) if days else None


def _keep_schema_file(connection: duckdb.DuckDBPyConnection, table: str, directory: Path, empty: bool) -> None:
    """An empty table still gets one (empty) file, so readers of the folder find its schema."""
    placeholder = directory / EMPTY_TABLE_FOLDER
    if empty and not placeholder.exists():
        placeholder.mkdir()
        connection.execute(f"COPY (SELECT * FROM {FEATURE_SCHEMA}.{table} LIMIT 0) TO '{placeholder / 'data_0.parquet'}' (FORMAT parquet)")
    elif not empty:
        shutil.rmtree(placeholder, ignore_errors=True)


def _write_date(connection: duckdb.DuckDBPyConnection, table: str, directory: Path, day: str) -> None:
    target = directory / day
    staging = directory / f".{day}.writing"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    connection.execute(
        f"COPY (SELECT * FROM {FEATURE_SCHEMA}.{table} WHERE snapshot_date = ? ORDER BY customer_id) "
        f"TO '{staging / 'data_0.parquet'}' (FORMAT parquet)",
        [date.fromisoformat(day)],
    )
    _replace(staging, target)


def _write_dates_partitioned(connection: duckdb.DuckDBPyConnection, table: str, directory: Path, days: list[str]) -> None:
    with tempfile.TemporaryDirectory(dir=directory, prefix=".bulk-") as staging:
        connection.execute(
            f"COPY (SELECT * FROM {FEATURE_SCHEMA}.{table} WHERE snapshot_date IN (SELECT unnest(?::DATE[])) "
            f"ORDER BY snapshot_date, customer_id) "
            f"TO '{staging}' (FORMAT parquet, PARTITION_BY (snapshot_date), WRITE_PARTITION_COLUMNS true, FILENAME_PATTERN 'data_{{i}}')",
            [days],
        )
        for partition in Path(staging).iterdir():
            # DuckDB names partitions `snapshot_date=<day>`; plain date names keep readers from
            # inferring a second, hive-partition snapshot_date column.
            _replace(partition, directory / partition.name.split("=", 1)[1])


def _replace(source: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    source.rename(target)
