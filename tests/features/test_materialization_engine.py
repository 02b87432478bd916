"""The bulk online writer's building blocks: Value bytes exactly as Feast's protobuf writes them,
and the rule that decides when writing only the changed features is safe."""

from datetime import datetime, timezone

import duckdb
import pytest
from feast.protos.feast.types.Value_pb2 import Value
from feast.types import Bool, Float64, Int64, String, UnixTimestamp

from feature_repo.materialization_engine import _store_holds_everything_before
from feature_repo.online_values import encode_column

MOMENT = datetime(2026, 3, 5, 10, 15, 7)


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


def test_timestamps_encode_as_unix_seconds_and_nulls_as_the_empty_message():
    aware = MOMENT.replace(tzinfo=timezone.utc)
    encoded, texts = encode_column([MOMENT, aware, None], UnixTimestamp)
    seconds = int(aware.timestamp())
    assert encoded == [Value(unix_timestamp_val=seconds).SerializeToString()] * 2 + [b""]
    assert texts == [None, None, None]
    assert encode_column([None, float("nan")], Float64) == ([b"", b""], [None, None])


def test_only_changes_are_written_when_every_earlier_row_was_written_to_the_store(tmp_path):
    path = str(tmp_path / "rows.parquet")
    with duckdb.connect() as connection:
        connection.execute(f"COPY (SELECT 'c' || i AS customer_id, i AS x, TIMESTAMP '2026-03-01' + INTERVAL (i) DAY AS event_timestamp "
                           f"FROM range(1, 6) t(i)) TO '{path}'")
        day = lambda n: datetime(2026, 3, n, tzinfo=timezone.utc)  # noqa: E731
        # Rows on 2 … 6 March; the nightly window starts on the 6th.
        assert _store_holds_everything_before(connection, [(day(1), day(3)), (day(4), day(5))], path, "event_timestamp", day(6))
        # Nobody materialized the 4th: its row may be missing from the store, so every feature is written.
        assert not _store_holds_everything_before(connection, [(day(1), day(3)), (day(5), day(5))], path, "event_timestamp", day(6))
        assert not _store_holds_everything_before(connection, [], path, "event_timestamp", day(6))  # a new store
