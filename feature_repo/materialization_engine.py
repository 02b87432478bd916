"""A Feast batch engine that writes the online store in bulk, and only what changed.

Feast's local engine turns every row into `Value` messages through a generic converter and then
writes SQLite one statement per feature and row (Redis: one command per row after a read of its
timestamp), every feature of every row in the window. Here the latest row per customer in the
window is read by DuckDB from the feature Parquet files beside the customer's row before it, so
that only the features whose value changed are encoded (`online_values`) and written: one
`executemany` per batch (SQLite) or one pipeline per batch (Redis), in the stores' own layout, so
Feast reads them exactly as it reads its own writes. A customer whose email row changed has two
of its eleven features changed, not eleven.

Writing only the changes is right when the store already holds every row before the window: the
windows the store recorded must cover all of them, which the engine checks; otherwise (a first
load, a gap) every feature is written. `feast materialize`, `materialize_incremental` and the
registry's intervals are Feast's own; other online stores use Feast's local engine.

What the store holds is recorded in the store itself (`cxp_online_windows`), in the transaction
that writes it: Feast commits a view's interval to the registry before the write's own commit, so
after a killed write the registry claims a window the store never received.

A publication (`publication()`) writes several views, and removes entities, in one transaction
(SQLite) or one MULTI/EXEC (Redis): readers see the previous night until it commits, then the new
night whole, and a write that dies leaves the previous night served.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow as pa
from feast import FeatureStore, FeatureView, FileSource
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
from feast.types import String
from feast.value_type import ValueType

from feature_repo.online_values import encode_column

log = logging.getLogger(__name__)
ENGINE_TYPE = "feature_repo.materialization_engine.CxpMaterializationEngine"
_CHANGED = "__changed__"
# The windows each view was written over, kept in the store beside the values (see the docstring).
WINDOWS_TABLE = "cxp_online_windows"
REDIS_WINDOWS_KEY = "cxp:online_windows"  # one hash; a field per project and view


class CxpMaterializationEngineConfig(FeastConfigBaseModel):
    """`batch_engine:` in feature_store.yaml."""

    type: Literal["feature_repo.materialization_engine.CxpMaterializationEngine"] = ENGINE_TYPE
    batch_rows: int = 50_000
    """Customers encoded and written per batch: bounds memory at millions of customers."""
    cache_mib: int = 512
    """SQLite page cache while writing (MiB)."""


class CxpMaterializationEngine(LocalComputeEngine):
    """Feast's local engine with a bulk, changes-only online write for the SQLite and Redis stores."""

    def __init__(self, *, batch_rows: int = 50_000, cache_mib: int = 512, **kwargs):
        kwargs.pop("type", None)
        super().__init__(**kwargs)
        self.batch_rows = batch_rows
        self.cache_mib = cache_mib
        self.cells_written = 0
        self._publishing = False
        self._unrecorded: list[tuple[str, datetime, datetime]] = []
        self._redis_transaction = None

    def _materialize_one(self, registry: BaseRegistry, task: MaterializationTask, **kwargs) -> LocalMaterializationJob:
        view = task.feature_view
        writable = isinstance(self.online_store, (SqliteOnlineStore, RedisOnlineStore)) and isinstance(view.batch_source, FileSource)
        if not writable or getattr(self.repo_config.online_store, "vector_enabled", False):
            if self._publishing:
                raise NotImplementedError(f"{type(self.online_store).__name__} cannot publish several views in one transaction")
            return super()._materialize_one(registry, task, **kwargs)
        job_id = f"{view.name}-{task.start_time}-{task.end_time}"
        try:
            connection = duckdb.connect()
            connection.execute("SET TimeZone = 'UTC'")
            changes_only = _store_holds_everything_before(connection, self._windows_written(view.name), self._path(view),
                                                          view.batch_source.timestamp_field, task.start_time)
            customers = 0
            for batch in self._latest_rows(connection, view, task.start_time, task.end_time, changes_only):
                self._write(view, batch)
                customers += batch.num_rows
            self._unrecorded.append((view.name, _naive_utc(task.start_time), _naive_utc(task.end_time)))
            if not self._publishing:
                self._commit()
            log.info("%s: %d customers written online (%s)", view.name, customers, "changes only" if changes_only else "every feature")
            return LocalMaterializationJob(job_id=job_id, status=MaterializationJobStatus.SUCCEEDED)
        except Exception as error:  # Feast reports the job's error to the caller
            return LocalMaterializationJob(job_id=job_id, status=MaterializationJobStatus.ERROR, error=error)

    # -- publications ----------------------------------------------------------------------------

    def begin_publication(self) -> None:
        """From here to `commit_publication`, writes and removals become visible together."""
        if self._publishing:
            raise RuntimeError("A publication is already open on this engine")
        self._publishing = True

    def commit_publication(self) -> None:
        try:
            self._commit()
        finally:
            self._publishing = False

    def abandon_publication(self) -> None:
        """Drop what the open publication wrote: the store keeps serving what it served."""
        self._publishing = False
        self._abandon()

    def remove_entities(self, views: list[FeatureView], entity_keys: list[bytes]) -> int:
        """Remove every value of these serialized entity keys, in the open publication if one is
        open; returns rows (SQLite) or keys (Redis, counted before the transaction) removed."""
        if not entity_keys:
            return 0
        if isinstance(self.online_store, SqliteOnlineStore):
            connection = self._sqlite()
            removed = 0
            for view in views:
                table = compute_table_id(self.repo_config.project, view, self.repo_config.registry.enable_online_feature_view_versioning)
                if connection.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", [table]).fetchone()[0]:
                    removed += connection.executemany(f'DELETE FROM "{table}" WHERE entity_key = ?', [(key,) for key in entity_keys]).rowcount
            if not self._publishing:
                connection.commit()
            return removed
        client = self._redis_client()
        keys = [key + self.repo_config.project.encode("utf-8") for key in entity_keys]
        existing = int(client.exists(*keys))
        pipe = self._redis_pipeline()
        pipe.delete(*keys)
        if not self._publishing:
            self._commit()
        return existing

    def _commit(self) -> None:
        """Record the windows written, then make the writes visible in one step."""
        if isinstance(self.online_store, SqliteOnlineStore):
            connection = self._sqlite()
            connection.execute(f"CREATE TABLE IF NOT EXISTS {WINDOWS_TABLE} (feature_view TEXT, window_start TEXT, window_end TEXT)")
            connection.executemany(f"INSERT INTO {WINDOWS_TABLE} VALUES (?, ?, ?)",
                                   [(name, start.isoformat(), end.isoformat()) for name, start, end in self._unrecorded])
            connection.commit()
            self._unrecorded = []
            # Fold the write-ahead log into the database file: the file alone is then the whole
            # store (to copy or back up), and the next run does not pay for a log of gigabytes.
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return
        pipe = self._redis_pipeline()
        if self._unrecorded:
            client = self._redis_client()
            for name in {name for name, _, _ in self._unrecorded}:
                stored = client.hget(REDIS_WINDOWS_KEY, self._windows_field(name))
                windows = [*json.loads(stored or "[]"),
                           *([start.isoformat(), end.isoformat()] for view, start, end in self._unrecorded if view == name)]
                pipe.hset(REDIS_WINDOWS_KEY, self._windows_field(name), json.dumps(windows))
        pipe.execute()
        self._redis_transaction = None
        self._unrecorded = []

    def _abandon(self) -> None:
        self._unrecorded = []
        if isinstance(self.online_store, SqliteOnlineStore):
            self._sqlite().rollback()
        elif self._redis_transaction is not None:
            self._redis_transaction.reset()
            self._redis_transaction = None

    def _windows_written(self, view_name: str) -> list[tuple[datetime, datetime]]:
        """The event-time windows this view's values were written over, committed or in this publication."""
        pending = [(start, end) for name, start, end in self._unrecorded if name == view_name]
        if isinstance(self.online_store, SqliteOnlineStore):
            connection = self._sqlite()
            if not connection.execute("SELECT count(*) FROM sqlite_master WHERE name = ?", [WINDOWS_TABLE]).fetchone()[0]:
                return pending
            rows = connection.execute(f"SELECT window_start, window_end FROM {WINDOWS_TABLE} WHERE feature_view = ?", [view_name]).fetchall()
        else:
            rows = json.loads(self._redis_client().hget(REDIS_WINDOWS_KEY, self._windows_field(view_name)) or "[]")
        return [(datetime.fromisoformat(start), datetime.fromisoformat(end)) for start, end in rows] + pending

    def _windows_field(self, view_name: str) -> str:
        return f"{self.repo_config.project}:{view_name}"

    def _sqlite(self) -> sqlite3.Connection:
        connection = self.online_store._get_conn(self.repo_config)
        if not connection.in_transaction:
            # WAL: the feature server keeps reading while a batch is written, and a commit appends to
            # the log instead of rewriting pages twice. Upserts land all over a table of millions of
            # rows: with SQLite's 2 MB default page cache each batch would re-read most pages it touches.
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute(f"PRAGMA cache_size = -{self.cache_mib * 1024}")
        return connection

    def _redis_client(self):
        return self.online_store._get_client(self.repo_config.online_store)

    def _redis_pipeline(self):
        """The pipeline writes go to: one MULTI/EXEC for a whole publication, else one per batch."""
        if self._redis_transaction is None:
            self._redis_transaction = self._redis_client().pipeline(transaction=True)
        return self._redis_transaction

    def _path(self, view: FeatureView) -> str:
        path = view.batch_source.path
        if "://" not in path and not Path(path).is_absolute():
            path = str(Path(self.repo_config.repo_path or ".") / path)
        return path

    def _latest_rows(self, connection: duckdb.DuckDBPyConnection, view: FeatureView, start: datetime, end: datetime,
                     changes_only: bool) -> Iterator[pa.RecordBatch]:
        """Each entity's latest row with its timestamp in [start, end] (as Feast's pull selects
        them), and per feature whether it differs from the entity's latest row before `start`."""
        source = view.batch_source
        to_source = {feast_name: column for column, feast_name in (source.field_mapping or {}).items()}
        keys = [field.name for field in view.entity_columns]
        features = [feature.name for feature in view.features]
        timestamp = _quoted(source.timestamp_field)

        def latest(where: str) -> str:
            select = ", ".join(f"{_quoted(to_source.get(c, c))} AS {_quoted(c)}" for c in [*keys, *features])
            return (f"SELECT {select}, {timestamp} AS __event_timestamp FROM read_parquet($path) WHERE {where} "
                    f"QUALIFY row_number() OVER (PARTITION BY {', '.join(_quoted(to_source.get(k, k)) for k in keys)} "
                    f"ORDER BY {timestamp} DESC) = 1")

        key_list = ", ".join(_quoted(k) for k in keys)
        if changes_only:
            # An entity without an earlier row gets every feature, nulls included.
            changed = ", ".join(f"previous.__event_timestamp IS NULL OR current.{_quoted(f)} IS DISTINCT FROM previous.{_quoted(f)} "
                                f"AS {_quoted(_CHANGED + f)}" for f in features)
            sql = (f"WITH current AS ({latest(f'{timestamp} BETWEEN $start AND $end')}), "
                   f"previous AS ({latest(f'{timestamp} < $start AND ({key_list}) IN (SELECT ({key_list}) FROM current)')}) "
                   f"SELECT current.*, {changed} FROM current LEFT JOIN previous USING ({key_list})")
        else:
            sql = f"SELECT *, {', '.join(f'true AS {_quoted(_CHANGED + f)}' for f in features)} FROM ({latest(f'{timestamp} BETWEEN $start AND $end')})"
        parameters = {"path": self._path(view), "start": _naive_utc(start), "end": _naive_utc(end)}
        yield from connection.sql(sql, params=parameters).to_arrow_reader(self.batch_rows)

    def _write(self, view: FeatureView, batch: pa.RecordBatch) -> None:
        entity_keys = _entity_keys(view, batch, self.repo_config.entity_key_serialization_version)
        timestamps = batch.column("__event_timestamp").to_pylist()
        changes = {}
        for feature in view.features:
            rows = [row for row, changed in enumerate(batch.column(_CHANGED + feature.name).to_pylist()) if changed]
            values = batch.column(feature.name).take(pa.array(rows, type=pa.int64())).to_pylist()
            encoded, texts = encode_column(values, feature.dtype)
            changes[feature.name] = (rows, encoded, texts)
        if isinstance(self.online_store, SqliteOnlineStore):
            self._write_sqlite(view, entity_keys, changes, timestamps)
        else:
            self._write_redis(view, entity_keys, changes, timestamps)

    def _write_sqlite(self, view: FeatureView, entity_keys: list[bytes], changes: dict, timestamps: list[datetime]) -> None:
        config = self.repo_config
        table = compute_table_id(config.project, view, config.registry.enable_online_feature_view_versioning)
        connection = self._sqlite()
        rows = [
            (entity_keys[row], feature, value, text, timestamps[row])
            for feature, (indices, encoded, texts) in changes.items()
            for row, value, text in zip(indices, encoded, texts)
        ]
        # In primary-key order: each insert lands next to the previous one in both of the table's
        # B-trees instead of at a random page (3x faster on a table of millions of rows).
        rows.sort(key=lambda row: (row[0], row[1]))
        connection.executemany(
            f'INSERT INTO "{table}" (entity_key, feature_name, value, value_text, event_ts, created_ts) '
            "VALUES (?, ?, ?, ?, ?, NULL) ON CONFLICT(entity_key, feature_name) DO UPDATE SET "
            "value = excluded.value, value_text = excluded.value_text, event_ts = excluded.event_ts, created_ts = NULL",
            rows,
        )
        if not self._publishing:
            connection.commit()
        self.cells_written += len(rows)

    def _write_redis(self, view: FeatureView, entity_keys: list[bytes], changes: dict, timestamps: list[datetime]) -> None:
        from google.protobuf.timestamp_pb2 import Timestamp

        config = self.repo_config
        name = compute_versioned_name(view, config.registry.enable_online_feature_view_versioning)
        project = config.project.encode("utf-8")
        timestamp_key = f"_ts:{name}"
        mappings: list[dict] = [{} for _ in entity_keys]
        for feature, (indices, encoded, _) in changes.items():
            field = _mmh3(f"{name}:{feature}")
            for row, value in zip(indices, encoded):
                mappings[row][field] = value
        timestamp_bytes: dict[datetime, bytes] = {}
        # Outside a publication each batch is its own pipeline, sent at once; inside, one MULTI/EXEC
        # collects the whole night.
        pipe = self._redis_pipeline() if self._publishing else self._redis_client().pipeline(transaction=False)
        for row, entity_key in enumerate(entity_keys):
            moment = timestamps[row]
            if moment not in timestamp_bytes:
                proto = Timestamp()
                proto.FromDatetime(moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment)
                timestamp_bytes[moment] = proto.SerializeToString()
            pipe.hset(entity_key + project, mapping={timestamp_key: timestamp_bytes[moment], **mappings[row]})
            if config.online_store.key_ttl_seconds:
                pipe.expire(entity_key + project, config.online_store.key_ttl_seconds)
            self.cells_written += len(mappings[row])
        if not self._publishing:
            pipe.execute()


@contextmanager
def publication(store: FeatureStore) -> Iterator[CxpMaterializationEngine]:
    """Every `store.materialize` and `remove_entities` inside the block reaches readers at once,
    when the block ends; an exception (or a killed process) leaves the previous state served."""
    engine = store._get_provider().batch_engine
    if not isinstance(engine, CxpMaterializationEngine):
        raise TypeError(f"The batch engine is {type(engine).__name__}, not {ENGINE_TYPE}: set it as batch_engine in feature_store.yaml")
    engine.begin_publication()
    try:
        yield engine
    except BaseException:
        engine.abandon_publication()
        raise
    engine.commit_publication()


def _store_holds_everything_before(connection: duckdb.DuckDBPyConnection, windows: list[tuple[datetime, datetime]], path: str,
                                   timestamp_field: str, start: datetime) -> bool:
    """Whether every row before `start` lies in a window the store recorded as written: then the
    store holds each entity's latest row before the window, and only changes need writing."""
    intervals = [(_naive_utc(s), _naive_utc(e)) for s, e in windows]
    if not intervals:
        return False
    timestamp = _quoted(timestamp_field)
    connection.execute("CREATE OR REPLACE TEMP TABLE materialized (window_start TIMESTAMP, window_end TIMESTAMP)")
    connection.executemany("INSERT INTO materialized VALUES (?, ?)", intervals)
    uncovered = connection.execute(
        f"SELECT count(*) FROM read_parquet(?) AS rows WHERE rows.{timestamp} < ? AND NOT EXISTS "
        f"(SELECT 1 FROM materialized WHERE rows.{timestamp} BETWEEN window_start AND window_end)",
        [path, _naive_utc(start)],
    ).fetchall()[0][0]
    return uncovered == 0


def _entity_keys(view: FeatureView, batch: pa.RecordBatch, version: int) -> list[bytes]:
    """Feast's serialized entity key of each row. A single string key (ours) is a fixed prefix
    plus the value, checked against Feast's own serializer on the first row."""
    fields = list(view.entity_columns)
    columns = [batch.column(field.name).to_pylist() for field in fields]
    if len(fields) == 1 and fields[0].dtype == String and version == 3 and columns[0]:
        name = fields[0].name.encode("utf-8")
        prefix = struct.pack("<III", 1, ValueType.STRING.value, len(name)) + name + struct.pack("<I", ValueType.STRING.value)
        keys = [prefix + struct.pack("<I", len(raw)) + raw for raw in (str(value).encode("utf-8") for value in columns[0])]
        reference = serialize_entity_key(EntityKey(join_keys=[fields[0].name], entity_values=[Value(string_val=str(columns[0][0]))]),
                                         entity_key_serialization_version=version)
        if keys[0] == reference:
            return keys
    return [
        serialize_entity_key(EntityKey(join_keys=[field.name for field in fields],
                                       entity_values=[_key_value(field.dtype, value) for field, value in zip(fields, values)]),
                             entity_key_serialization_version=version)
        for values in zip(*columns)
    ]


def _key_value(dtype, value) -> Value:
    return Value(string_val=str(value)) if dtype == String else Value(int64_val=int(value))


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
