"""A Feast batch engine that writes the online store in bulk.

Feast's local engine turns every row into `Value` messages through a generic converter and then
writes SQLite one statement per feature and row (Redis: one command per row after a read of its
timestamp). Here the same rows, the latest per customer in the window, are read by DuckDB from the
feature Parquet files, encoded a column at a time (`online_values`) and written with one
`executemany` per batch (SQLite) or one pipeline per batch (Redis), in the stores' own layout, so
Feast reads them exactly as it reads its own writes. `feast materialize`, `materialize_incremental`
and the registry's materialization intervals are unchanged; any other online store falls back to
Feast's own engine.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow as pa
from feast import FeatureView, FileSource
from feast.infra.common.materialization_job import MaterializationJobStatus, MaterializationTask
from feast.infra.compute_engines.local.compute import LocalComputeEngine
from feast.infra.compute_engines.local.job import LocalMaterializationJob
from feast.infra.key_encoding_utils import serialize_entity_key
from feast.infra.online_stores.helpers import _mmh3, compute_table_id, compute_versioned_name
from feast.infra.online_stores.redis import RedisOnlineStore
from feast.infra.online_stores.sqlite import SqliteOnlineStore
from feast.infra.registry.base_registry import BaseRegistry
from feast.protos.feast.types.EntityKey_pb2 import EntityKey
from feast.protos.feast.types.Value_pb2 import Value
from feast.repo_config import FeastConfigBaseModel
from feast.types import Int64
from google.protobuf.timestamp_pb2 import Timestamp

from feature_repo.online_values import encode_column

log = logging.getLogger(__name__)
ENGINE_TYPE = "feature_repo.materialization_engine.CxpMaterializationEngine"


class CxpMaterializationEngineConfig(FeastConfigBaseModel):
    """`batch_engine:` in feature_store.yaml."""

    type: Literal["feature_repo.materialization_engine.CxpMaterializationEngine"] = ENGINE_TYPE
    batch_rows: int = 50_000
    """Customers encoded and written per batch: bounds memory at millions of customers."""


class CxpMaterializationEngine(LocalComputeEngine):
    """Feast's local engine with a bulk online write for the SQLite and Redis stores."""

    def __init__(self, *, batch_rows: int = 50_000, **kwargs):
        kwargs.pop("type", None)
        super().__init__(**kwargs)
        self.batch_rows = batch_rows

    def _materialize_one(self, registry: BaseRegistry, task: MaterializationTask, **kwargs) -> LocalMaterializationJob:
        view = task.feature_view
        writable = isinstance(self.online_store, (SqliteOnlineStore, RedisOnlineStore)) and isinstance(view.batch_source, FileSource)
        if not writable or getattr(self.repo_config.online_store, "vector_enabled", False):
            return super()._materialize_one(registry, task, **kwargs)
        job_id = f"{view.name}-{task.start_time}-{task.end_time}"
        try:
            written = 0
            for batch in self._latest_rows(view, task.start_time, task.end_time):
                self._write(view, batch)
                written += batch.num_rows
            log.info("%s: %d customers written online", view.name, written)
            return LocalMaterializationJob(job_id=job_id, status=MaterializationJobStatus.SUCCEEDED)
        except Exception as error:  # Feast reports the job's error to the caller
            return LocalMaterializationJob(job_id=job_id, status=MaterializationJobStatus.ERROR, error=error)

    def _latest_rows(self, view: FeatureView, start: datetime, end: datetime) -> Iterator[pa.RecordBatch]:
        """Each entity's latest row with its timestamp in [start, end], as Feast's pull does."""
        source = view.batch_source
        to_source = {feast_name: column for column, feast_name in (source.field_mapping or {}).items()}
        keys = [field.name for field in view.entity_columns]
        columns = [*keys, *(feature.name for feature in view.features)]
        timestamp = _quoted(source.timestamp_field)
        path = source.path
        if "://" not in path and not Path(path).is_absolute():
            path = str(Path(self.repo_config.repo_path or ".") / path)
        select = ", ".join(f"{_quoted(to_source.get(column, column))} AS {_quoted(column)}" for column in columns)
        sql = (
            f"SELECT {select}, {timestamp} AS __event_timestamp FROM read_parquet(?) "
            f"WHERE {timestamp} BETWEEN ? AND ? "
            f"QUALIFY row_number() OVER (PARTITION BY {', '.join(_quoted(to_source.get(k, k)) for k in keys)} ORDER BY {timestamp} DESC) = 1"
        )
        connection = duckdb.connect()
        connection.execute("SET TimeZone = 'UTC'")
        reader = connection.execute(sql, [path, _naive_utc(start), _naive_utc(end)]).to_arrow_reader(self.batch_rows)
        yield from reader

    def _write(self, view: FeatureView, batch: pa.RecordBatch) -> None:
        version = self.repo_config.entity_key_serialization_version
        key_columns = list(view.entity_columns)
        key_values = [batch.column(field.name).to_pylist() for field in key_columns]
        entity_keys = [
            serialize_entity_key(
                EntityKey(join_keys=[field.name for field in key_columns],
                          entity_values=[_key_value(field.dtype, value) for field, value in zip(key_columns, values)]),
                entity_key_serialization_version=version,
            )
            for values in zip(*key_values)
        ]
        encoded = {feature.name: encode_column(batch.column(feature.name).to_pylist(), feature.dtype) for feature in view.features}
        timestamps = batch.column("__event_timestamp").to_pylist()
        if isinstance(self.online_store, SqliteOnlineStore):
            self._write_sqlite(view, entity_keys, encoded, timestamps)
        else:
            self._write_redis(view, entity_keys, encoded, timestamps)

    def _write_sqlite(self, view: FeatureView, entity_keys: list[bytes], encoded: dict, timestamps: list[datetime]) -> None:
        config = self.repo_config
        table = compute_table_id(config.project, view, config.registry.enable_online_feature_view_versioning)
        connection = self.online_store._get_conn(config)
        # In primary-key order: each insert lands next to the previous one in both of the table's
        # B-trees instead of at a random page (3x faster on a table of millions of rows).
        order = sorted(range(len(entity_keys)), key=entity_keys.__getitem__)
        features = sorted(encoded)
        rows = (
            (entity_keys[row], feature, encoded[feature][0][row], encoded[feature][1][row], timestamps[row])
            for row in order
            for feature in features
        )
        with connection:
            connection.executemany(
                f'INSERT INTO "{table}" (entity_key, feature_name, value, value_text, event_ts, created_ts) '
                "VALUES (?, ?, ?, ?, ?, NULL) ON CONFLICT(entity_key, feature_name) DO UPDATE SET "
                "value = excluded.value, value_text = excluded.value_text, event_ts = excluded.event_ts, created_ts = NULL",
                rows,
            )

    def _write_redis(self, view: FeatureView, entity_keys: list[bytes], encoded: dict, timestamps: list[datetime]) -> None:
        config = self.repo_config
        client = self.online_store._get_client(config.online_store)
        name = compute_versioned_name(view, config.registry.enable_online_feature_view_versioning)
        project = config.project.encode("utf-8")
        fields = {feature: _mmh3(f"{name}:{feature}") for feature in encoded}
        timestamp_key = f"_ts:{name}"
        timestamp_bytes: dict[datetime, bytes] = {}
        with client.pipeline(transaction=False) as pipe:
            for row, entity_key in enumerate(entity_keys):
                moment = timestamps[row]
                if moment not in timestamp_bytes:
                    proto = Timestamp()
                    proto.FromDatetime(moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment)
                    timestamp_bytes[moment] = proto.SerializeToString()
                mapping = {timestamp_key: timestamp_bytes[moment]}
                mapping.update((fields[feature], values[0][row]) for feature, values in encoded.items())
                pipe.hset(entity_key + project, mapping=mapping)
                if config.online_store.key_ttl_seconds:
                    pipe.expire(entity_key + project, config.online_store.key_ttl_seconds)
            pipe.execute()


def _key_value(dtype, value) -> Value:
    return Value(int64_val=value) if dtype == Int64 else Value(string_val=str(value))


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
