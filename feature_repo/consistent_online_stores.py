"""Feast's SQLite and Redis online stores, each reading one request from one consistent state.

Feast reads a request's feature views one after another: SQLite with one SELECT per view (each in
its own implicit transaction), Redis with one HMGET per view and customer in a plain pipeline. The
nightly write publishes every view of a night in one transaction (`materialization_engine`), but
a read that straddles that commit would still answer with one view from last night and another
from tonight. Here the views of one request are read inside one SQLite read transaction (one
snapshot of the file, WAL mode) or one Redis MULTI/EXEC (no write lands between its commands),
so a response is always wholly one night's.

The stores' private hooks overridden here (`_read_features_per_fv`, `_get_conn`, `_read_hash_fields`)
are checked, with every other Feast internal cxp relies on, by tests/features/test_feast_internals.py;
the internals it calls go through `feast_internals`.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Literal

from feast.infra.online_stores.redis import RedisOnlineStore, RedisOnlineStoreConfig
from feast.infra.online_stores.sqlite import SqliteOnlineStore, SqliteOnlineStoreConfig
from feast.repo_config import RepoConfig

from feature_repo.feast_internals import new_sqlite_connection

SQLITE_TYPE = "feature_repo.consistent_online_stores.ConsistentSqliteOnlineStore"
REDIS_TYPE = "feature_repo.consistent_online_stores.ConsistentRedisOnlineStore"


class ConsistentSqliteOnlineStoreConfig(SqliteOnlineStoreConfig):
    """`online_store:` in feature_store.yaml; the options of Feast's `sqlite` store."""

    type: Literal["feature_repo.consistent_online_stores.ConsistentSqliteOnlineStore"] = SQLITE_TYPE  # type: ignore[assignment]


class ConsistentSqliteOnlineStore(SqliteOnlineStore):
    """Feast's SQLite store with one connection per thread, and the views of a request read in one
    transaction: the feature server answers requests on a pool of threads, and a transaction is
    per connection, so a shared connection cannot hold one request's snapshot."""

    def __init__(self) -> None:
        super().__init__()
        self._connections = threading.local()

    def _get_conn(self, config: RepoConfig) -> sqlite3.Connection:
        connection = getattr(self._connections, "connection", None)
        if connection is None:
            connection = new_sqlite_connection(self, config)
            self._connections.connection = connection
        return connection

    def _read_features_per_fv(self, config: RepoConfig, grouped_refs, *args, **kwargs) -> None:
        connection = self._get_conn(config)
        if len(grouped_refs) < 2 or connection.in_transaction:
            return super()._read_features_per_fv(config, grouped_refs, *args, **kwargs)
        # A deferred transaction takes its snapshot at the first SELECT and keeps it to the last.
        connection.execute("BEGIN")
        try:
            return super()._read_features_per_fv(config, grouped_refs, *args, **kwargs)
        finally:
            connection.rollback()


class ConsistentRedisOnlineStoreConfig(RedisOnlineStoreConfig):
    """`online_store:` in feature_store.redis.yaml; the options of Feast's `redis` store."""

    type: Literal["feature_repo.consistent_online_stores.ConsistentRedisOnlineStore"] = REDIS_TYPE  # type: ignore[assignment]


class ConsistentRedisOnlineStore(RedisOnlineStore):
    """Feast's Redis store with a request's reads in one MULTI/EXEC: Redis runs a transaction's
    commands back to back, so the nightly publication's own MULTI/EXEC lands before or after all
    of them."""

    def _read_hash_fields(self, config: RepoConfig, commands):
        if config.online_store.client != "redis":  # GLIDE batches: Feast's own path
            return super()._read_hash_fields(config, commands)
        client = self._get_client(config.online_store)
        with client.pipeline(transaction=True) as pipe:
            for redis_key, fields in commands:
                pipe.hmget(redis_key, fields)
            return pipe.execute()
