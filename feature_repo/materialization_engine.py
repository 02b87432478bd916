"""A Feast batch engine that writes the online store in bulk, and only what changed.

Feast's local engine turns every row into `Value` messages through a generic converter and then
writes SQLite one statement per feature and row (Redis: one command per row after a read of its
timestamp), every feature of every row in the window. Here DuckDB reads the latest row per
customer in the window beside the customer's row before it (`changed_rows`), so only the features
whose value changed are encoded and written (`online_writes`), in the stores' own layout, so Feast
reads them exactly as it reads its own writes. A customer whose email changed has two of its
eleven features changed, not eleven.

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
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal

import duckdb
import pyarrow as pa
from feast import FeatureStore, FeatureView, FileSource
from feast.infra.common.materialization_job import MaterializationJobStatus, MaterializationTask
from feast.infra.compute_engines.local.compute import LocalComputeEngine
from feast.infra.compute_engines.local.job import LocalMaterializationJob
from feast.infra.online_stores.redis import RedisOnlineStore
from feast.infra.online_stores.sqlite import SqliteOnlineStore
from feast.infra.registry.base_registry import BaseRegistry
from feast.repo_config import FeastConfigBaseModel

from feature_repo.changed_rows import file_source, latest_rows, naive_utc, store_holds_everything_before
from feature_repo.feast_internals import batch_engine, redis_client, redis_hash_key, sqlite_connection, sqlite_table
from feature_repo.online_writes import batch_changes, write_redis, write_sqlite

log = logging.getLogger(__name__)
ENGINE_TYPE: Final = "feature_repo.materialization_engine.CxpMaterializationEngine"
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
            changes_only = store_holds_everything_before(connection, self._windows_written(view.name), self._path(view),
                                                         file_source(view).timestamp_field, task.start_time)
            customers = 0
            for batch in latest_rows(connection, view, self._path(view), task.start_time, task.end_time, changes_only, self.batch_rows):
                self._write(view, batch)
                customers += batch.num_rows
            self._unrecorded.append((view.name, naive_utc(task.start_time), naive_utc(task.end_time)))
            if not self._publishing:
                self._commit()
            log.info("%s: %d customers written online (%s)", view.name, customers, "changes only" if changes_only else "every feature")
            return LocalMaterializationJob(job_id=job_id, status=MaterializationJobStatus.SUCCEEDED)
        except Exception as error:  # Feast reports the job's error to the caller
            return LocalMaterializationJob(job_id=job_id, status=MaterializationJobStatus.ERROR, error=error)

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
                table = sqlite_table(self.repo_config, view)
                if connection.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", [table]).fetchone()[0]:
                    removed += connection.executemany(f'DELETE FROM "{table}" WHERE entity_key = ?', [(key,) for key in entity_keys]).rowcount
            if not self._publishing:
                connection.commit()
            return removed
        client = self._redis_client()
        keys = [redis_hash_key(self.repo_config, key) for key in entity_keys]
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
        connection = sqlite_connection(self.online_store, self.repo_config)
        if not connection.in_transaction:
            # WAL: the feature server keeps reading while a batch is written, and a commit appends to
            # the log instead of rewriting pages twice. Upserts land all over a table of millions of
            # rows: with SQLite's 2 MB default page cache each batch would re-read most pages it touches.
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute(f"PRAGMA cache_size = -{self.cache_mib * 1024}")
        return connection

    def _redis_client(self) -> Any:
        return redis_client(self.online_store, self.repo_config)

    def _redis_pipeline(self):
        """The pipeline writes go to: one MULTI/EXEC for a whole publication, else one per batch."""
        if self._redis_transaction is None:
            self._redis_transaction = self._redis_client().pipeline(transaction=True)
        return self._redis_transaction

    def _path(self, view: FeatureView) -> str:
        path = file_source(view).path
        if "://" not in path and not Path(path).is_absolute():
            path = str(Path(self.repo_config.repo_path or ".") / path)
        return path

    def _write(self, view: FeatureView, batch: pa.RecordBatch) -> None:
        keys, changes, timestamps = batch_changes(view, batch, self.repo_config.entity_key_serialization_version)
        if isinstance(self.online_store, SqliteOnlineStore):
            self.cells_written += write_sqlite(self._sqlite(), self.repo_config, view, keys, changes, timestamps)
            if not self._publishing:
                self._sqlite().commit()
            return
        # Outside a publication each batch is its own pipeline, sent at once; inside, one MULTI/EXEC
        # collects the whole night.
        pipe = self._redis_pipeline() if self._publishing else self._redis_client().pipeline(transaction=False)
        self.cells_written += write_redis(pipe, self.repo_config, view, keys, changes, timestamps)
        if not self._publishing:
            pipe.execute()


@contextmanager
def publication(store: FeatureStore) -> Iterator[CxpMaterializationEngine]:
    """Every `store.materialize` and `remove_entities` inside the block reaches readers at once,
    when the block ends; an exception (or a killed process) leaves the previous state served."""
    engine = batch_engine(store)
    if not isinstance(engine, CxpMaterializationEngine):
        raise TypeError(f"The batch engine is {type(engine).__name__}, not {ENGINE_TYPE}: set it as batch_engine in feature_store.yaml")
    engine.begin_publication()
    try:
        yield engine
    except BaseException:
        engine.abandon_publication()
        raise
    engine.commit_publication()

