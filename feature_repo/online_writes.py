"""Changed feature values written in the SQLite and Redis online stores' own layouts, a batch at a
time (one `executemany` or one pipeline), so Feast reads them exactly as it reads its own writes."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

import pyarrow as pa
from feast import FeatureView
from feast.repo_config import RepoConfig

from feature_repo.changed_rows import CHANGED, EVENT_TIMESTAMP
from feature_repo.feast_internals import (
    encode_column,
    entity_keys,
    redis_feature_field,
    redis_hash_key,
    redis_timestamp_field,
    redis_timestamp_value,
    sqlite_table,
)

# Per feature: (rows of the batch whose value changed, their Value bytes, their text forms).
Changes = dict[str, tuple[list[int], list[bytes], list[str | None]]]


def batch_changes(view: FeatureView, batch: pa.RecordBatch, version: int) -> tuple[list[bytes], Changes, list[datetime]]:
    """A batch of `changed_rows.latest_rows`: each row's entity key, the encoded changed values, and each row's timestamp."""
    keys = entity_keys([(field.name, field.dtype) for field in view.entity_columns],
                       [batch.column(field.name).to_pylist() for field in view.entity_columns], version)
    changes: Changes = {}
    for feature in view.features:
        rows = [row for row, changed in enumerate(batch.column(CHANGED + feature.name).to_pylist()) if changed]
        values = batch.column(feature.name).take(pa.array(rows, type=pa.int64())).to_pylist()
        encoded, texts = encode_column(values, feature.dtype)
        changes[feature.name] = (rows, encoded, texts)
    return keys, changes, batch.column(EVENT_TIMESTAMP).to_pylist()


def write_sqlite(connection: sqlite3.Connection, config: RepoConfig, view: FeatureView, keys: list[bytes], changes: Changes,
                 timestamps: list[datetime]) -> int:
    """Upsert the changed cells into the view's table (uncommitted); returns cells written."""
    rows = [
        (keys[row], feature, value, text, timestamps[row])
        for feature, (indices, encoded, texts) in changes.items()
        for row, value, text in zip(indices, encoded, texts)
    ]
    # In primary-key order: each insert lands next to the previous one in both of the table's
    # B-trees instead of at a random page (3x faster on a table of millions of rows).
    rows.sort(key=lambda row: (row[0], row[1]))
    connection.executemany(
        f'INSERT INTO "{sqlite_table(config, view)}" (entity_key, feature_name, value, value_text, event_ts, created_ts) '
        "VALUES (?, ?, ?, ?, ?, NULL) ON CONFLICT(entity_key, feature_name) DO UPDATE SET "
        "value = excluded.value, value_text = excluded.value_text, event_ts = excluded.event_ts, created_ts = NULL",
        rows,
    )
    return len(rows)


def write_redis(pipe: Any, config: RepoConfig, view: FeatureView, keys: list[bytes], changes: Changes, timestamps: list[datetime]) -> int:
    """Queue the changed fields and each entity's view timestamp on a Redis pipeline; returns cells queued."""
    timestamp_key = redis_timestamp_field(config, view)
    mappings: list[dict] = [{} for _ in keys]
    for feature, (indices, encoded, _) in changes.items():
        field = redis_feature_field(config, view, feature)
        for row, value in zip(indices, encoded):
            mappings[row][field] = value
    timestamp_bytes: dict[datetime, bytes] = {}
    cells = 0
    for row, entity_key in enumerate(keys):
        moment = timestamps[row]
        if moment not in timestamp_bytes:
            timestamp_bytes[moment] = redis_timestamp_value(moment)
        pipe.hset(redis_hash_key(config, entity_key), mapping={timestamp_key: timestamp_bytes[moment], **mappings[row]})
        if config.online_store.key_ttl_seconds:
            pipe.expire(redis_hash_key(config, entity_key), config.online_store.key_ttl_seconds)
        cells += len(mappings[row])
    return cells
