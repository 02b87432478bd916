"""Which customers and features a materialization window changed, read by DuckDB from a view's
feature Parquet files: each entity's latest row in the window, and per feature whether it differs
from the entity's latest row before the window (the value the online store holds)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import duckdb
import pyarrow as pa
from feast import FeatureView, FileSource

CHANGED = "__changed__"
"""Prefix of the boolean column saying whether a feature's value changed (`__changed__<feature>`)."""
EVENT_TIMESTAMP = "__event_timestamp"


def file_source(view: FeatureView) -> FileSource:
    """The view's batch source: cxp's views all read Parquet files (Feast types it as any source, or none)."""
    source = view.batch_source
    if not isinstance(source, FileSource):
        raise TypeError(f"feature view {view.name!r} reads {type(source).__name__}, not Parquet files (a FileSource)")
    return source


def store_holds_everything_before(connection: duckdb.DuckDBPyConnection, windows: list[tuple[datetime, datetime]], path: str,
                                  timestamp_field: str, start: datetime) -> bool:
    """Whether every row before `start` lies in a window the store recorded as written: then the
    store holds each entity's latest row before the window, and only changes need writing."""
    intervals = [(naive_utc(s), naive_utc(e)) for s, e in windows]
    if not intervals:
        return False
    timestamp = _quoted(timestamp_field)
    connection.execute("CREATE OR REPLACE TEMP TABLE materialized (window_start TIMESTAMP, window_end TIMESTAMP)")
    connection.executemany("INSERT INTO materialized VALUES (?, ?)", intervals)
    uncovered = connection.execute(
        f"SELECT count(*) FROM read_parquet(?) AS rows WHERE rows.{timestamp} < ? AND NOT EXISTS "
        f"(SELECT 1 FROM materialized WHERE rows.{timestamp} BETWEEN window_start AND window_end)",
        [path, naive_utc(start)],
    ).fetchall()[0][0]
    return uncovered == 0


def latest_rows(connection: duckdb.DuckDBPyConnection, view: FeatureView, path: str, start: datetime, end: datetime,
                changes_only: bool, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """Each entity's latest row with its timestamp in [start, end] (as Feast's pull selects them),
    its `__event_timestamp`, and per feature whether it differs from the entity's latest row before
    `start` (every feature counts as changed when not `changes_only`)."""
    source = file_source(view)
    to_source = {feast_name: column for column, feast_name in (source.field_mapping or {}).items()}
    keys = [field.name for field in view.entity_columns]
    features = [feature.name for feature in view.features]
    timestamp = _quoted(source.timestamp_field)

    def latest(where: str) -> str:
        select = ", ".join(f"{_quoted(to_source.get(c, c))} AS {_quoted(c)}" for c in [*keys, *features])
        return (f"SELECT {select}, {timestamp} AS {EVENT_TIMESTAMP} FROM read_parquet($path) WHERE {where} "
                f"QUALIFY row_number() OVER (PARTITION BY {', '.join(_quoted(to_source.get(k, k)) for k in keys)} "
                f"ORDER BY {timestamp} DESC) = 1")

    key_list = ", ".join(_quoted(k) for k in keys)
    if changes_only:
        # An entity without an earlier row gets every feature, nulls included.
        changed = ", ".join(f"previous.{EVENT_TIMESTAMP} IS NULL OR current.{_quoted(f)} IS DISTINCT FROM previous.{_quoted(f)} "
                            f"AS {_quoted(CHANGED + f)}" for f in features)
        sql = (f"WITH current AS ({latest(f'{timestamp} BETWEEN $start AND $end')}), "
               f"previous AS ({latest(f'{timestamp} < $start AND ({key_list}) IN (SELECT ({key_list}) FROM current)')}) "
               f"SELECT current.*, {changed} FROM current LEFT JOIN previous USING ({key_list})")
    else:
        sql = f"SELECT *, {', '.join(f'true AS {_quoted(CHANGED + f)}' for f in features)} FROM ({latest(f'{timestamp} BETWEEN $start AND $end')})"
    yield from connection.sql(sql, params={"path": path, "start": naive_utc(start), "end": naive_utc(end)}).to_arrow_reader(batch_rows)


def naive_utc(moment: datetime) -> datetime:
    """A moment as a naive UTC datetime (DuckDB's TIMESTAMP)."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
