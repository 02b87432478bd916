"""Dagster's SQLite event log, with one kept connection per database instead of a new engine per
statement. This module is the one place that reaches into the event log's internals.

Dagster's `SqliteEventLogStorage` builds a SQLAlchemy engine, connects, commits and disposes it
for every event it stores, and each commit waits for the disk (SQLite's default synchronous=FULL).
A nightly run stores hundreds of events (every dbt test is an asset check): on a one-person
landing that was 25 of a run's 65 seconds (measured with cProfile). Here each database (the index
and each run's) keeps one engine and one connection, used under the storage's own lock, with
`synchronous=NORMAL`: in WAL mode, which Dagster already sets, a crash cannot corrupt the file,
and only the last commits before a power cut could be lost. Other processes (the UI) read and
write the same files as before.

`tests/pipeline/test_event_log_storage.py` fails when the internals this relies on change.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as db
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS  # type: ignore[attr-defined]
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

MODULE = __name__
CLASS = "KeptConnectionSqliteEventLogStorage"


class KeptConnectionSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` with one engine and connection kept per shard (index or run)."""

    def __init__(self, base_dir: str, inst_data: Any = None) -> None:
        self._engines: dict[str, Engine] = {}
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Any) -> KeptConnectionSqliteEventLogStorage:  # type: ignore[override]
        return cls(inst_data=inst_data, **config_value)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        # The storage's lock already serialises every statement of this process: one connection
        # per shard suffices, shared across the threads that take the lock.
        with self._db_lock:
            engine = self._engines.get(shard)
            if engine is None:
                engine = db.create_engine(self.conn_string_for_shard(shard), poolclass=StaticPool,
                                          connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False})
                db.event.listen(engine, "connect", _without_waiting_for_the_disk)
                if shard not in self._initialized_dbs:
                    self._initdb(engine)
                    self._initialized_dbs.add(shard)
                self._engines[shard] = engine
            with engine.connect() as connection, connection.begin():
                yield connection

    def release_connections(self) -> None:
        """Close every kept connection (before another process rewrites the files, and on dispose)."""
        with self._db_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()

    def dispose(self) -> None:
        self.release_connections()
        super().dispose()


def _without_waiting_for_the_disk(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()
