"""Every Feast internal cxp relies on, in one place: how the SQLite and Redis online stores lay out
their tables and keys, how entity keys and values are encoded, and the private handles (store
connections, the provider's batch engine) the bulk writer uses.

Feast documents none of these as API; they change between releases. The rest of cxp calls the
functions here, and `tests/features/test_feast_internals.py` checks each against Feast's own code,
so an upgrade that changes one fails there, by name, instead of as wrong values online.
"""

from __future__ import annotations

import math
import sqlite3
import struct
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from feast.infra.key_encoding_utils import serialize_entity_key
from feast.infra.online_stores.helpers import _mmh3, compute_table_id, compute_versioned_name
from feast.protos.feast.types.EntityKey_pb2 import EntityKey
from feast.protos.feast.types.Value_pb2 import Value
from feast.types import Array, Bool, FeastType, Float64, Int64, String, UnixTimestamp
from feast.value_type import ValueType

if TYPE_CHECKING:
    from feast import FeatureStore, FeatureView
    from feast.infra.online_stores.online_store import OnlineStore
    from feast.repo_config import RepoConfig


# -- online-store layouts ------------------------------------------------------------------------

def sqlite_table(config: RepoConfig, view: FeatureView) -> str:
    """The SQLite online store's table of a feature view."""
    return compute_table_id(config.project, view, config.registry.enable_online_feature_view_versioning)


def redis_hash_key(config: RepoConfig, entity_key: bytes) -> bytes:
    """The Redis online store's hash of an entity (all its views' features): key bytes + project."""
    return entity_key + config.project.encode("utf-8")


def redis_feature_field(config: RepoConfig, view: FeatureView, feature: str) -> bytes:
    """The field of one feature of a view inside an entity's Redis hash."""
    return _mmh3(f"{_redis_view_name(config, view)}:{feature}")


def redis_timestamp_field(config: RepoConfig, view: FeatureView) -> str:
    """The field holding a view's event timestamp inside an entity's Redis hash."""
    return f"_ts:{_redis_view_name(config, view)}"


def redis_timestamp_value(moment: datetime) -> bytes:
    """An event timestamp as the Redis store keeps it: a serialized protobuf Timestamp."""
    from google.protobuf.timestamp_pb2 import Timestamp

    proto = Timestamp()
    proto.FromDatetime(moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment)
    return proto.SerializeToString()


def _redis_view_name(config: RepoConfig, view: FeatureView) -> str:
    return compute_versioned_name(view, config.registry.enable_online_feature_view_versioning)


# -- entity keys ---------------------------------------------------------------------------------

def entity_keys(join_keys: Sequence[tuple[str, FeastType]], columns: Sequence[Sequence[Any]], version: int) -> list[bytes]:
    """Feast's serialized entity key of each row, given the view's join keys (name, type) and one
    column of values per key. A single string key (ours) is a fixed prefix plus the value: built
    directly, and checked against Feast's own serializer on the first row."""
    if len(join_keys) == 1 and join_keys[0][1] == String and version == 3 and columns[0]:
        name = join_keys[0][0].encode("utf-8")
        prefix = struct.pack("<III", 1, ValueType.STRING.value, len(name)) + name + struct.pack("<I", ValueType.STRING.value)
        keys = [prefix + struct.pack("<I", len(raw)) + raw for raw in (str(value).encode("utf-8") for value in columns[0])]
        if keys[0] == _serialized([join_keys[0][0]], [Value(string_val=str(columns[0][0]))], version):
            return keys
    return [_serialized([name for name, _ in join_keys], [_key_value(dtype, value) for (_, dtype), value in zip(join_keys, values)],
                        version) for values in zip(*columns)]


def customer_keys(store: FeatureStore, customer_ids: Sequence[str]) -> list[bytes]:
    """Feast's serialized entity key of each customer id (join key `customer_id`)."""
    return entity_keys([("customer_id", String)], [list(customer_ids)], store.config.entity_key_serialization_version)


def _serialized(names: list[str], values: list[Value], version: int) -> bytes:
    return serialize_entity_key(EntityKey(join_keys=names, entity_values=values), entity_key_serialization_version=version)


def _key_value(dtype: FeastType, value: Any) -> Value:
    return Value(string_val=str(value)) if dtype == String else Value(int64_val=int(value))


# -- feature values ------------------------------------------------------------------------------
# Feast's materialization builds one `Value` message per cell through a generic converter, most of
# its time. Here a column is encoded by one function chosen once for its type, with the bytes of
# repeated values cached. The bytes are exactly `Value(<kind>_val=x).SerializeToString()`; a null
# is the empty message, as in Feast.

_STRING_TAG = b"\x12"             # string_val = 2, length-delimited
_INT64_TAG = b"\x20"              # int64_val = 4, varint
_DOUBLE = struct.Struct("<Bd")    # double_val = 5, 64-bit
_BOOL = {True: b"\x38\x01", False: b"\x38\x00"}  # bool_val = 7
_TIMESTAMP_TAG = b"\x40"          # unix_timestamp_val = 8, varint
_STRING_LIST_TAG = b"\x62"        # string_list_val = 12, length-delimited: a StringList ...
_LIST_ITEM_TAG = b"\x0a"          # ... of `val = 1` strings; [] is the tag and a zero length, not a null
NULL = b""


def encode_column(values: Sequence[object], dtype: FeastType) -> tuple[list[bytes], list[str | None]]:
    """The `Value` bytes of each cell of a column, and each cell's text form (None for nulls and
    timestamps, as Feast's SQLite store keeps them)."""
    encode, text = _encoder(dtype)
    encoded: list[bytes] = []
    texts: list[str | None] = []
    for value in values:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            encoded.append(NULL)
            texts.append(None)
        else:
            encoded.append(encode(value))
            texts.append(text(value))
    return encoded, texts


def _encoder(dtype: FeastType) -> tuple[Callable[[Any], bytes], Callable[[Any], str | None]]:
    """(value -> Value bytes, value -> the `value_text` Feast's SQL stores keep) for a non-null value."""
    if dtype == Int64:
        return _cached(lambda value: _INT64_TAG + _varint(value)), str
    if dtype == Float64:
        return (lambda value: _DOUBLE.pack(0x29, value)), str
    if dtype == Bool:
        return _BOOL.__getitem__, str
    if dtype == String:
        return _cached(lambda value: _STRING_TAG + _length_prefixed(value)), str
    if dtype == Array(String):
        def encode_strings(value: Sequence[str]) -> bytes:
            items = b"".join(_LIST_ITEM_TAG + _length_prefixed(item) for item in value)
            return _STRING_LIST_TAG + _varint(len(items)) + items
        cached = _cached(encode_strings)
        # A list is cached as a tuple (hashable); Feast's SQL stores keep no text form of a list.
        return (lambda value: cached(tuple(value))), (lambda value: None)
    if dtype == UnixTimestamp:
        return (lambda value: _TIMESTAMP_TAG + _varint(_timestamp_seconds(value))), (lambda value: None)
    raise TypeError(f"No online encoding for Feast type {dtype}")


def _varint(number: int) -> bytes:
    """Protobuf varint of a signed 64-bit integer (negative ones as their two's complement)."""
    number &= 0xFFFF_FFFF_FFFF_FFFF
    out = bytearray()
    while number > 0x7F:
        out.append((number & 0x7F) | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)


def _length_prefixed(text: str) -> bytes:
    raw = text.encode("utf-8")
    return _varint(len(raw)) + raw


def _cached(encode: Callable[[Any], bytes]) -> Callable[[Any], bytes]:
    cache: dict[object, bytes] = {}

    def encode_cached(value: object) -> bytes:
        encoded = cache.get(value)
        if encoded is None:
            encoded = cache[value] = encode(value)
        return encoded

    return encode_cached


def _timestamp_seconds(value: datetime) -> int:
    return int((value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value).timestamp())


# -- private handles -----------------------------------------------------------------------------

def sqlite_connection(online_store: OnlineStore, config: RepoConfig) -> sqlite3.Connection:
    """The SQLite online store's own connection (its writes and Feast's reads share it)."""
    return online_store._get_conn(config)  # type: ignore[attr-defined]  # SqliteOnlineStore's private accessor


def new_sqlite_connection(online_store: OnlineStore, config: RepoConfig) -> sqlite3.Connection:
    """A new connection to the SQLite online store's file, set up as Feast sets up its own."""
    from feast.infra.online_stores.sqlite import _initialize_conn

    return _initialize_conn(online_store._get_db_path(config))  # type: ignore[attr-defined]  # SqliteOnlineStore's private path


def redis_client(online_store: OnlineStore, config: RepoConfig) -> Any:
    """The Redis online store's own client."""
    return online_store._get_client(config.online_store)  # type: ignore[attr-defined]  # RedisOnlineStore's private accessor


def batch_engine(store: FeatureStore) -> Any:
    """The batch (materialization) engine the store's provider was configured with."""
    return store._get_provider().batch_engine  # type: ignore[attr-defined]  # the passthrough provider's attribute
