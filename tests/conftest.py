"""Shared fixtures: an isolated platform home per test, so nothing touches ~/.cxp or the working directory."""

import os
from pathlib import Path

import duckdb
import pytest

FIXTURES = Path(__file__).parent / "fixtures"

# Test homes hold a few thousand records, for which a million random pairs measure Splink's u as
# well as the default ten million (the same clusters on a 1,500-person demo) in a tenth of the time.
# Set for the whole session, `cxp` subprocesses included; tests of matching set their own.
os.environ.setdefault("CXP_IDENTITY_U_SAMPLE_PAIRS", "1000000")

# Every variable cxp reads or exports; monkeypatch restores them after each test.
_PLATFORM_VARIABLES = (
    "CXP_HOME", "CXP_LANDING", "CXP_WAREHOUSE_PATH", "CXP_PARTITION_START", "CXP_QUALITY_THRESHOLDS", "DAGSTER_HOME",
    "CXP_FEATURE_REPO", "CXP_ONLINE_STORE", "CXP_REDIS", "CXP_FEATURE_SERVER_PORT", "CXP_FEATURE_SERVER_TOKEN", "CXP_FEATURE_SERVER_MAX_ENTITIES", "CXP_FEATURE_SERVER_MAX_BODY_BYTES", "CXP_FEATURE_STORE_DIR", "CXP_SQLITE_ONLINE_STORE", "CXP_FEATURE_FILES_DIR", "CXP_MODEL_SETTINGS", "CXP_EXPERIMENT_SETTINGS",
    "CXP_SUPPRESSION_SALT_FILE", "CXP_SNAPSHOTS_KEPT", "CXP_DOCS_PORT",
    "DBT_TARGET_PATH", "DBT_LOG_PATH",
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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Files with whole-pipeline runs (marked slow; `slow(minutes=N)` for the longest) first, longest
    first, each file's tests in their own order.

    xdist hands files to the two workers in this order (--no-loadscope-reorder), so the files that
    take minutes start at once and the quick ones fill in at the end; ordered by test count, as xdist
    does by default, a six-minute file with ten tests started last and ran alone for minutes."""
    minutes: dict[object, float] = {}
    for item in items:
        marker = item.get_closest_marker("slow")
        if marker is not None:
            minutes[item.path] = float(marker.kwargs.get("minutes", 1))
    items.sort(key=lambda item: -minutes.get(item.path, 0.0))


_exit_status = 0


def pytest_sessionfinish(session, exitstatus) -> None:
    global _exit_status
    _exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config) -> None:
    """Leave without interpreter finalization, once pytest has reported everything.

    dbt-duckdb and Splink keep DuckDB objects in module-level caches; at finalization DuckDB's
    bindings report them as leaks, after pytest's summary, burying the line CI reads.
    """
    import os
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_exit_status)
