"""Keeping the online store in step: incremental materialization, and no stale values for ids a
merge retired."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

from feast import FeatureStore
from feast.infra.key_encoding_utils import serialize_entity_key
from feast.protos.feast.types.EntityKey_pb2 import EntityKey
from feast.protos.feast.types.Value_pb2 import Value

from dagster_project.settings import Settings

# Written into the online store itself, so wiping the store also wipes it: Feast keeps its
# incremental position in the registry, and a wiped store would otherwise get 0 rows.
_MARKER_TABLE = "cxp_materialization_marker"
_REDIS_MARKER_KEY = "cxp:materialization_marker"


def online_store_holds_data(settings: Settings) -> bool:
    if settings.online_store == "sqlite":
        path = settings.feature_store_dir / "online_store.db"
        if not path.exists():
            return False
        with sqlite3.connect(path) as connection:
            return connection.execute("SELECT count(*) FROM sqlite_master WHERE name = ?", [_MARKER_TABLE]).fetchone()[0] == 1
    return bool(_redis(settings).exists(_REDIS_MARKER_KEY))


def mark_online_store(settings: Settings) -> None:
    if settings.online_store == "sqlite":
        with sqlite3.connect(settings.feature_store_dir / "online_store.db") as connection:
            connection.execute(f"CREATE TABLE IF NOT EXISTS {_MARKER_TABLE} (marked_at TEXT)")
            connection.execute(f"INSERT INTO {_MARKER_TABLE} VALUES (?)", [datetime.now(timezone.utc).isoformat()])
    else:
        _redis(settings).set(_REDIS_MARKER_KEY, datetime.now(timezone.utc).isoformat())


def materialize_online(store: FeatureStore, settings: Settings, until: datetime) -> str:
    """Write what changed since the last materialization (everything into an empty store)."""
    if online_store_holds_data(settings):
        store.materialize_incremental(end_date=until)
        mode = "incremental"
    else:
        store.materialize(start_date=datetime(1970, 1, 2, tzinfo=timezone.utc), end_date=until)
        mode = "full"
    mark_online_store(settings)
    return mode


def delete_customers_online(store: FeatureStore, settings: Settings, customer_ids: list[str]) -> int:
    """Remove every feature of these customers from the online store; returns rows/keys removed."""
    if not customer_ids:
        return 0
    version = store.config.entity_key_serialization_version
    keys = [serialize_entity_key(EntityKey(join_keys=["customer_id"], entity_values=[Value(string_val=customer)]),
                                 entity_key_serialization_version=version) for customer in customer_ids]
    if settings.online_store == "sqlite":
        removed = 0
        with sqlite3.connect(settings.feature_store_dir / "online_store.db") as connection:
            for view in store.list_feature_views():
                table = f"{store.project}_{view.name}"
                if connection.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", [table]).fetchone()[0]:
                    removed += connection.executemany(f'DELETE FROM "{table}" WHERE entity_key = ?', [(key,) for key in keys]).rowcount
        return removed
    client = _redis(settings)
    return int(client.delete(*[key + store.project.encode() for key in keys]))


def _redis(settings: Settings):
    import redis

    host_port, *options = settings.redis_connection_string.split(",")
    host, _, port = host_port.partition(":")
    kwargs = dict(option.split("=", 1) for option in options)
    return redis.Redis(host=host or "localhost", port=int(port or 6379), db=int(kwargs.get("db", 0)), password=kwargs.get("password"))
