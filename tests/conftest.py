"""Shared fixtures: an isolated platform home per test, so nothing touches ~/.cxp or the working directory."""

from pathlib import Path

import duckdb
import pytest

FIXTURES = Path(__file__).parent / "fixtures"

# Every variable cxp reads or exports; monkeypatch restores them after each test.
_PLATFORM_VARIABLES = (
    "CXP_HOME", "CXP_LANDING", "CXP_WAREHOUSE_PATH", "CXP_PARTITION_START", "DAGSTER_HOME", "DBT_TARGET_PATH", "DBT_LOG_PATH",
)


@pytest.fixture
def cxp_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh CXP_HOME (and Dagster instance inside it) for one test."""
    for name in _PLATFORM_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "cxp-home"
    monkeypatch.setenv("CXP_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    return home


def query(warehouse: Path, sql: str) -> list[tuple]:
    """Read the warehouse without holding its lock."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def pytest_sessionfinish(session, exitstatus) -> None:
    """Free DuckDB objects held in reference cycles before exit, so duckdb does not report them as leaks."""
    import gc

    gc.collect()
