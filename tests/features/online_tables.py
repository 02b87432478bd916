"""Reading a Feast SQLite online store back as plain values, for comparing two stores."""

import sqlite3
from pathlib import Path

from feast.protos.feast.types.Value_pb2 import Value

_NOT_A_TIME = -(2**63)  # how Feast's own converter stores a null timestamp


def decoded_value(raw: bytes) -> object:
    value = Value()
    value.ParseFromString(raw)
    kind = value.WhichOneof("val")
    decoded = getattr(value, kind) if kind else None
    return None if kind == "unix_timestamp_val" and decoded == _NOT_A_TIME else decoded


def decoded_online_tables(path: Path) -> dict[str, dict[tuple[bytes, str], tuple]]:
    """Every feature table of the store: (entity key, feature) -> (value, its text form, event time)."""
    with sqlite3.connect(path) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%entity_key BLOB%'")]
        return {
            table: {(key, feature): (decoded_value(value), text, event_ts) for key, feature, value, text, event_ts in
                    connection.execute(f'SELECT entity_key, feature_name, value, value_text, event_ts FROM "{table}"')}
            for table in tables
        }
