"""The rule that decides when the bulk online writer may write only the changed features (the value
bytes it writes are checked against Feast's in test_feast_internals.py)."""

from datetime import datetime, timezone

import duckdb

from feature_repo.changed_rows import store_holds_everything_before


def test_only_changes_are_written_when_every_earlier_row_was_written_to_the_store(tmp_path):
    path = str(tmp_path / "rows.parquet")
    with duckdb.connect() as connection:
        connection.execute(f"COPY (SELECT 'c' || i AS customer_id, i AS x, TIMESTAMP '2026-03-01' + INTERVAL (i) DAY AS event_timestamp "
                           f"FROM range(1, 6) t(i)) TO '{path}'")
        day = lambda n: datetime(2026, 3, n, tzinfo=timezone.utc)  # noqa: E731
        # Rows on 2 … 6 March; the nightly window starts on the 6th.
        assert store_holds_everything_before(connection, [(day(1), day(3)), (day(4), day(5))], path, "event_timestamp", day(6))
        # Nobody materialized the 4th: its row may be missing from the store, so every feature is written.
        assert not store_holds_everything_before(connection, [(day(1), day(3)), (day(5), day(5))], path, "event_timestamp", day(6))
        assert not store_holds_everything_before(connection, [], path, "event_timestamp", day(6))  # a new store
