"""The check before each run that the warehouse file is whole: damaged files stop the run, healthy ones never do."""

import os

import duckdb
import pytest

from dagster_project.warehouse_snapshots import WarehouseUnsafe, check_warehouse_opens


@pytest.fixture
def warehouse_with_freed_tail(tmp_path):
    """A healthy warehouse whose last tables were dropped: DuckDB gives their blocks back and cuts
    them from the file, while its header still counts them (43 blocks counted, 15 in the file)."""
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        for name in ("kept", "middle", "tail"):
            connection.execute(f"CREATE TABLE {name} AS SELECT range AS id, md5(range::VARCHAR) AS v FROM range(200000)")
            connection.execute("CHECKPOINT")
        for name in ("middle", "tail"):
            connection.execute(f"DROP TABLE {name}")
            connection.execute("CHECKPOINT")
    with duckdb.connect(str(path), read_only=True) as connection:
        _, _, block_size, counted, used, *_ = connection.execute("PRAGMA database_size").fetchall()[0]
    assert os.path.getsize(path) < 3 * 4096 + counted * block_size  # what made the old check refuse it
    return path


def test_a_healthy_warehouse_shorter_than_its_block_count_is_accepted(warehouse_with_freed_tail, tmp_path):
    check_warehouse_opens(warehouse_with_freed_tail, tmp_path / "snapshots")


def test_a_warehouse_cut_short_is_refused_with_its_name_and_the_missing_bytes(warehouse_with_freed_tail, tmp_path):
    os.truncate(warehouse_with_freed_tail, os.path.getsize(warehouse_with_freed_tail) // 3)
    with pytest.raises(WarehouseUnsafe, match=f"The warehouse {warehouse_with_freed_tail} is damaged and was not touched"):
        check_warehouse_opens(warehouse_with_freed_tail, tmp_path / "snapshots")
