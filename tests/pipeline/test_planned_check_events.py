"""The Dagster adapter that plans an unpartitioned asset's checks once per run (see the module)."""

from collections import Counter

import dagster as dg
import pytest
import sqlalchemy as db
from dagster._core.storage.dagster_run import DagsterRun
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable

from dagster_project.defs.ingest.partitions import partition_range_tags
from dagster_project.defs.pipeline.planned_check_events import plan_unpartitioned_checks_once

DAYS = dg.DailyPartitionsDefinition(start_date="2026-01-01")


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
def raw_loads() -> None:
    """Stands for a raw load: one partition per extract date."""


@dg.asset(deps=[raw_loads])
def model() -> None:
    """Stands for a dbt model or feature table: no partitions."""


@dg.asset_check(asset=raw_loads)
def raw_loads_check() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


@dg.asset_check(asset=model)
def model_check() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


def _check_rows_after_a_ten_day_run() -> dict[str, Counter]:
    """Dagster's execution records per check after one run over ten daily partitions: status counts.

    Dagster stores partitions on the run when the asset its plan lists last is partitioned (in cxp's
    plan, a raw load; here `raw_loads`, after `model`), and only then hands them to every step."""
    definitions = dg.Definitions(assets=[raw_loads, model], asset_checks=[raw_loads_check, model_check],
                                 jobs=[dg.define_asset_job("pipeline", partitions_def=DAYS)])
    with dg.instance_for_test() as instance:
        # As `cxp run` runs it: the job resolved, an asset selection, a range of partitions.
        result = definitions.resolve_job_def("pipeline").execute_in_process(
            instance=instance, asset_selection=[raw_loads.key, model.key], tags=partition_range_tags(DAYS.start.date(), DAYS.start.date().replace(day=10)))
        assert result.success
        with instance.event_log_storage.index_connection() as connection:  # every row, whatever its partition
            rows = connection.execute(db.select(AssetCheckExecutionsTable.c.check_name, AssetCheckExecutionsTable.c.execution_status)).fetchall()
        return {name: Counter(status for check, status in rows if check == name) for name in ("raw_loads_check", "model_check")}


@pytest.fixture
def dagster_as_shipped(monkeypatch):
    """Dagster's own planning for the length of a test (another test in this process may have installed the adapter)."""
    resolve = DagsterRun.get_resolved_partitions_subset_for_events
    monkeypatch.setattr(DagsterRun, "get_resolved_partitions_subset_for_events", getattr(resolve, "__wrapped__", resolve))


def test_dagster_alone_plans_each_check_once_per_partition_and_leaves_those_rows_planned(dagster_as_shipped):
    # What the adapter is for: when this fails, Dagster has changed and the adapter may go.
    rows = _check_rows_after_a_ten_day_run()
    assert rows == {"raw_loads_check": Counter({"PLANNED": 10, "SUCCEEDED": 1}), "model_check": Counter({"PLANNED": 10, "SUCCEEDED": 1})}


def test_with_the_adapter_each_check_has_one_row_holding_its_result(dagster_as_shipped):
    plan_unpartitioned_checks_once()
    plan_unpartitioned_checks_once()  # idempotent: a second install does not wrap twice
    assert not hasattr(DagsterRun.get_resolved_partitions_subset_for_events.__wrapped__, "__wrapped__")
    rows = _check_rows_after_a_ten_day_run()
    assert rows == {"raw_loads_check": Counter({"SUCCEEDED": 1}), "model_check": Counter({"SUCCEEDED": 1})}
