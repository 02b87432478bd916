"""The event log that keeps its SQLite connections (see the module): the Dagster internals it
overrides keep their shape, cxp's instance uses it, runs and their events read back as with
Dagster's own storage, and it opens one connection per database, not one per event."""

import inspect
from pathlib import Path

import dagster as dg
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from dagster_project.cli.dagster_instance import prepare_dagster_home
from dagster_project.defs.pipeline.event_log_storage import KeptConnectionSqliteEventLogStorage
from dagster_project.settings import load_settings


@dg.asset
def numbers() -> list[int]:
    """Stands for a pipeline step: one materialization."""
    return [1, 2, 3]


@dg.asset_check(asset=numbers)
def numbers_are_positive() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


def test_the_event_log_internals_it_overrides_keep_their_shape(tmp_path):
    assert list(inspect.signature(SqliteEventLogStorage._connect).parameters) == ["self", "shard"]
    assert list(inspect.signature(SqliteEventLogStorage._initdb).parameters)[:2] == ["self", "engine"]
    stock = SqliteEventLogStorage(str(tmp_path))
    assert hasattr(stock, "_db_lock") and isinstance(stock._initialized_dbs, set)
    assert stock.conn_string_for_shard("index").startswith("sqlite:///")


def test_runs_store_their_events_through_kept_connections_that_dagsters_own_storage_reads(cxp_home, monkeypatch):
    settings = load_settings()
    home = Path(prepare_dagster_home(settings))
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, KeptConnectionSqliteEventLogStorage)
        results = [dg.materialize([numbers, numbers_are_positive], instance=instance) for _ in range(3)]
        assert all(result.success for result in results)
        # One engine per database touched (the index and each run's), however many events were stored.
        assert set(storage._engines) == {"index", *(result.run_id for result in results)}
        with storage.index_connection() as connection:
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    # Dagster's own storage, over the same files, reads what was written.
    stock = SqliteEventLogStorage(str(home / "history" / "runs"))
    for result in results:
        kinds = [record.event_log_entry.dagster_event_type for record in stock.get_records_for_run(result.run_id).records]
        assert dg.DagsterEventType.ASSET_MATERIALIZATION in kinds and dg.DagsterEventType.RUN_SUCCESS in kinds
    assert stock.get_latest_materialization_events([dg.AssetKey("numbers")])[dg.AssetKey("numbers")] is not None


def test_a_config_cxp_wrote_is_updated_and_a_users_own_is_left_alone(cxp_home):
    settings = load_settings()
    config = Path(prepare_dagster_home(settings)) / "dagster.yaml"
    config.write_text("# Written by cxp. An older version.\ntelemetry:\n  enabled: false\n")
    prepare_dagster_home(settings)
    assert "KeptConnectionSqliteEventLogStorage" in config.read_text()
    config.write_text("telemetry:\n  enabled: false\n")
    prepare_dagster_home(settings)
    assert config.read_text() == "telemetry:\n  enabled: false\n"
