"""The Feast internals cxp relies on (`feature_repo/feast_internals.py`, and the private hooks the
consistent stores and the publishing engine override), checked against Feast's own code: stock
Feast writes a view online, and the adapter must name its table, its keys, its fields and its
value bytes exactly. Each test fails when a Feast upgrade moves what it checks."""

import inspect
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest
from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
from feast.infra.compute_engines.local.compute import LocalComputeEngine
from feast.infra.online_stores.redis import RedisOnlineStore
from feast.infra.online_stores.sqlite import SqliteOnlineStore
from feast.infra.registry.file import FileRegistryStore
from feast.protos.feast.types.Value_pb2 import StringList, Value
from feast.repo_config import RegistryConfig, RepoConfig
from feast.types import Array, Bool, Float64, Int64, String, UnixTimestamp

from feature_repo.feast_internals import (
    batch_engine,
    customer_keys,
    encode_column,
    entity_keys,
    new_sqlite_connection,
    redis_client,
    redis_feature_field,
    redis_hash_key,
    redis_timestamp_field,
    redis_timestamp_value,
    sqlite_connection,
    sqlite_table,
)
from tests.redis_server import running_redis

MOMENT = datetime(2026, 3, 5, 10, 15, 7)
ROWS = pd.DataFrame({
    "customer_id": ["c-1", "c-2", "Zoë"],
    "orders": [3, 0, 2**40],
    "spend": [12.5, None, 0.1],
    "segment": ["gold", "", "日本"],
    "interests": [["Shoes", "Bags"], [], ["日本", "a" * 200]],
    "event_timestamp": [pd.Timestamp("2026-03-04T00:00:00Z")] * 3,
})


def _parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_the_feast_hooks_we_override_keep_their_shape():
    # The generic per-view read that both consistent stores wrap (SQLite) or feed (Redis).
    assert _parameters(SqliteOnlineStore._read_features_per_fv) == [
        "self", "config", "grouped_refs", "join_key_values", "entity_name_to_join_key_map", "online_features_response",
        "full_feature_names", "include_feature_view_version_metadata"]
    assert _parameters(SqliteOnlineStore._get_conn) == ["self", "config"]
    assert _parameters(RedisOnlineStore._read_hash_fields) == ["self", "config", "commands"]
    # The engine's entry point and the registry store's one write method.
    assert _parameters(LocalComputeEngine._materialize_one)[:3] == ["self", "registry", "task"]
    assert _parameters(FileRegistryStore.update_registry_proto) == ["self", "registry_proto"]
    assert "serve_features_while_materializing" in RegistryConfig.model_fields
    assert "registry_store_type" in RegistryConfig.model_fields


@pytest.mark.parametrize("dtype, values, field", [
    (Int64, [0, 1, 127, 128, 300, 2**40, -1, -(2**63)], "int64_val"),  # one- and multi-byte varints, negatives
    (Float64, [0.0, 1.5, -2.25, 1e300, 0.1], "double_val"),
    (String, ["", "Books", "Zoë", "日本", "a" * 200], "string_val"),  # length prefixes past one byte
    (Bool, [True, False], "bool_val"),
])
def test_encoded_values_are_the_bytes_of_feasts_value_message(dtype, values, field):
    encoded, texts = encode_column(values, dtype)
    assert encoded == [Value(**{field: value}).SerializeToString() for value in values]
    assert texts == [str(value) for value in values]


def test_string_lists_encode_as_feasts_string_list_and_an_empty_one_is_not_a_null():
    values = [["Shoes", "Bags"], [], ["Zoë", "a" * 200], ("Shoes", "Bags")]
    encoded, texts = encode_column([*values, None], Array(String))
    assert encoded == [Value(string_list_val=StringList(val=list(value))).SerializeToString() for value in values] + [b""]
    assert encoded[1] != b"" and Value.FromString(encoded[1]).WhichOneof("val") == "string_list_val"
    assert texts == [None] * 5  # Feast's SQL stores keep no text form of a list


def test_timestamps_encode_as_unix_seconds_and_nulls_as_the_empty_message():
    aware = MOMENT.replace(tzinfo=timezone.utc)
    encoded, texts = encode_column([MOMENT, aware, None], UnixTimestamp)
    seconds = int(aware.timestamp())
    assert encoded == [Value(unix_timestamp_val=seconds).SerializeToString()] * 2 + [b""]
    assert texts == [None, None, None]
    assert encode_column([None, float("nan")], Float64) == ([b"", b""], [None, None])


def test_entity_keys_are_feasts_serialized_keys_for_string_and_compound_keys():
    from feast.infra.key_encoding_utils import serialize_entity_key
    from feast.protos.feast.types.EntityKey_pb2 import EntityKey

    ids = ["c-1", "", "Zoë", "x" * 300]
    assert entity_keys([("customer_id", String)], [ids], 3) == [
        serialize_entity_key(EntityKey(join_keys=["customer_id"], entity_values=[Value(string_val=i)]), entity_key_serialization_version=3)
        for i in ids]
    assert entity_keys([("shop", String), ("n", Int64)], [["a", "b"], [1, 2]], 3) == [
        serialize_entity_key(EntityKey(join_keys=["shop", "n"], entity_values=[Value(string_val=s), Value(int64_val=n)]),
                             entity_key_serialization_version=3) for s, n in (("a", 1), ("b", 2))]


def _stock_store(tmp_path: Path, online_store: dict) -> tuple[FeatureStore, FeatureView]:
    """Stock Feast (its own engine and stores) with one view of three customers written online."""
    path = tmp_path / "rows.parquet"
    ROWS.to_parquet(path)
    config = RepoConfig(project="adapter_check", provider="local", registry=str(tmp_path / "registry.db"), online_store=online_store,
                        offline_store={"type": "file"}, entity_key_serialization_version=3, repo_path=str(tmp_path))
    store = FeatureStore(config=config)
    customer = Entity(name="customer", join_keys=["customer_id"], value_type=ValueType.STRING)
    view = FeatureView(name="customer_facts", entities=[customer], ttl=None, online=True,
                       schema=[Field(name="customer_id", dtype=String), Field(name="orders", dtype=Int64),
                               Field(name="spend", dtype=Float64), Field(name="segment", dtype=String),
                               Field(name="interests", dtype=Array(String))],
                       source=FileSource(path=str(path), timestamp_field="event_timestamp"))
    store.apply([customer, view])
    store.write_to_online_store("customer_facts", ROWS)
    return store, store.get_feature_view("customer_facts")


def _expected_cells(view: FeatureView) -> dict[tuple[bytes, str], bytes]:
    keys = entity_keys([("customer_id", String)], [ROWS["customer_id"].tolist()], 3)
    cells = {}
    for feature in view.features:
        values = [None if not isinstance(value, list) and pd.isna(value) else value for value in ROWS[feature.name].tolist()]
        for key, encoded in zip(keys, encode_column(values, feature.dtype)[0]):
            cells[key, feature.name] = encoded
    return cells


def test_the_sqlite_layout_is_the_table_keys_and_bytes_feast_writes(tmp_path):
    store, view = _stock_store(tmp_path, {"type": "sqlite", "path": str(tmp_path / "online.db")})
    online_store = store._get_provider().online_store
    connection = sqlite_connection(online_store, store.config)
    rows = connection.execute(f'SELECT entity_key, feature_name, value FROM "{sqlite_table(store.config, view)}"').fetchall()
    assert {(key, feature): value for key, feature, value in rows} == _expected_cells(view)
    assert customer_keys(store, ["c-1"])[0] in {key for key, _, _ in rows}
    fresh = new_sqlite_connection(online_store, store.config)
    assert fresh is not connection and fresh.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] >= 1
    assert isinstance(batch_engine(store), LocalComputeEngine)


def test_the_redis_layout_is_the_keys_fields_and_bytes_feast_writes(tmp_path):
    with running_redis(tmp_path) as port:
        store, view = _stock_store(tmp_path, {"type": "redis", "connection_string": f"127.0.0.1:{port},db=0"})
        client = redis_client(store._get_provider().online_store, store.config)
        expected = _expected_cells(view)
        for key in {key for key, _ in expected}:
            stored = client.hgetall(redis_hash_key(store.config, key))
            assert stored, "no hash under the adapter's key for a customer Feast wrote"
            for feature in (feature.name for feature in view.features):
                assert stored[redis_feature_field(store.config, view, feature)] == expected[key, feature]
            assert stored[redis_timestamp_field(store.config, view).encode()] == redis_timestamp_value(datetime(2026, 3, 4, tzinfo=timezone.utc))
