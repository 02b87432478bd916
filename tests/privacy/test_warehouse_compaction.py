"""Rewriting the warehouse after an erasure: deleted rows leave no bytes, and an open file is left alone."""

import duckdb
import pytest

from dagster_project.privacy.warehouse_compaction import CompactionError, compact_warehouse

ERASED = "erased.person@example.com"


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("SET force_compression = 'uncompressed'")  # strings as written, as dictionaries often hold them
        connection.execute("CREATE SCHEMA raw")
        connection.execute("CREATE TABLE raw.contacts (contact_id VARCHAR PRIMARY KEY, email VARCHAR)")
        connection.execute("INSERT INTO raw.contacts SELECT 'c' || i, CASE WHEN i = 7 THEN ? ELSE 'p' || i || '@example.com' END "
                           "FROM range(50000) AS t(i)", [ERASED])
        connection.execute("CHECKPOINT")
        connection.execute("DELETE FROM raw.contacts WHERE email = ?", [ERASED])
    return path


def test_deleted_rows_leave_no_bytes_in_the_rewritten_file(warehouse):
    assert ERASED.encode() in warehouse.read_bytes()  # DuckDB left them in the file
    compact_warehouse(warehouse)
    assert ERASED.encode() not in warehouse.read_bytes()
    with duckdb.connect(str(warehouse)) as connection:
        assert connection.execute("SELECT count(*) FROM raw.contacts").fetchall() == [(49999,)]
        # Keys survive the copy: the platform's INSERT OR REPLACE relies on them.
        connection.execute("INSERT OR REPLACE INTO raw.contacts VALUES ('c1', 'new@example.com')")
        assert connection.execute("SELECT email FROM raw.contacts WHERE contact_id = 'c1'").fetchall() == [("new@example.com",)]


def test_a_warehouse_someone_has_open_is_not_replaced(warehouse):
    before = warehouse.read_bytes()
    with duckdb.connect(str(warehouse), read_only=True):
        with pytest.raises(CompactionError, match="lock"):
            compact_warehouse(warehouse)
    assert warehouse.read_bytes() == before
    assert not list(warehouse.parent.glob("*compacting*"))
