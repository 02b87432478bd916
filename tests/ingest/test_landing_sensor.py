"""The landing sensor starts one run for new and re-delivered files, and none when nothing changed."""

from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import pytest
from dagster_duckdb import DuckDBResource

from dagster_project.defs.ingest.resources import LandingZone
from dagster_project.defs.ingest.sensors import build_landing_sensor
from dagster_project.defs.pipeline.jobs import build_nightly_schedule, build_pipeline_job
from dagster_project.defs.privacy.resources import SuppressionSalt
from dagster_project.defs.quality.resources import QualityGates
from tests.ingest.conftest import PARTITIONS, RAW_ASSETS
from tests.ingest.test_readers import CONTACT_HEADER, GOOD_CONTACT

JOB = build_pipeline_job()
SENSOR = build_landing_sensor(JOB, PARTITIONS)


@dg.asset(deps=[asset.key for asset in RAW_ASSETS])
def downstream_model() -> None:
    """Stands in for the dbt models that hang off the raw assets."""


@pytest.fixture
def evaluate(platform):
    resources = {"landing": LandingZone(path=str(platform.landing)), "warehouse": DuckDBResource(database=str(platform.warehouse)),
                 "suppression_salt": SuppressionSalt(path=str(platform.warehouse.parent / "privacy" / "suppression_salt")),
                 "quality": QualityGates(platform.warehouse.parent / "quality")}
    definitions = dg.Definitions(assets=[*RAW_ASSETS, downstream_model], jobs=[JOB], sensors=[SENSOR], resources=resources)

    def tick(cursor: str | None):
        context = dg.build_sensor_context(cursor=cursor, definitions=definitions, resources=resources)
        return SENSOR(context), context.cursor

    return tick


def test_new_files_start_one_run_over_their_dates_with_everything_downstream(platform, evaluate):
    platform.deliver("crm/contacts_2024-03-05.csv", f"{CONTACT_HEADER}\n{GOOD_CONTACT}\n")
    platform.deliver("support/tickets_2024-03-07.jsonl", "")
    platform.deliver("crm/not_a_contract_file.csv", "ignored")
    request, _ = evaluate(None)
    assert request.tags["dagster/asset_partition_range_start"] == "2024-03-05"
    assert request.tags["dagster/asset_partition_range_end"] == "2024-03-07"
    assert {key.to_user_string() for key in request.asset_selection} == {"raw/crm_contacts", "raw/support_tickets", "downstream_model"}


def test_nothing_changed_means_no_run(platform, evaluate):
    platform.deliver("crm/contacts_2024-03-05.csv", f"{CONTACT_HEADER}\n{GOOD_CONTACT}\n")
    _, cursor = evaluate(None)
    result, _ = evaluate(cursor)
    assert isinstance(result, dg.SkipReason)


def test_a_redelivered_file_starts_a_run_for_its_own_day_only(platform, evaluate):
    platform.deliver("crm/contacts_2024-03-05.csv", f"{CONTACT_HEADER}\n{GOOD_CONTACT}\n")
    platform.deliver("crm/contacts_2024-03-06.csv", f"{CONTACT_HEADER}\n{GOOD_CONTACT}\n")
    first, cursor = evaluate(None)
    platform.deliver("crm/contacts_2024-03-05.csv", f"{CONTACT_HEADER}\n{GOOD_CONTACT}\n{GOOD_CONTACT.replace('AAV', 'AAW')}\n")
    second, _ = evaluate(cursor)
    assert second.tags["dagster/asset_partition_range_start"] == second.tags["dagster/asset_partition_range_end"] == "2024-03-05"
    assert second.run_key != first.run_key


def test_the_nightly_schedule_runs_the_whole_pipeline_for_the_previous_extract_date():
    schedule = build_nightly_schedule(JOB)
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2024, 3, 6, 3, 0, tzinfo=timezone.utc))
    request = schedule(context)
    assert request.partition_key == "2024-03-05"
    assert schedule.cron_schedule == "0 3 * * *"


def test_files_already_loaded_by_a_run_start_nothing_but_a_later_redelivery_does(platform, evaluate):
    platform.deliver("crm/contacts_2024-03-05.csv", f"{CONTACT_HEADER}\n{GOOD_CONTACT}\n")
    assert platform.ingest("2024-03-05", selection="raw/crm_contacts").success
    result, cursor = evaluate(None)
    assert isinstance(result, dg.SkipReason)
    platform.deliver("crm/contacts_2024-03-05.csv", f"{CONTACT_HEADER}\n{GOOD_CONTACT}\n{GOOD_CONTACT.replace('AAV', 'AAW')}\n")
    request, _ = evaluate(cursor)
    assert request.tags["dagster/asset_partition_range_start"] == "2024-03-05"


def test_a_warehouse_locked_by_a_running_job_is_reported_busy_not_read_as_empty(platform):
    import subprocess
    import sys

    import duckdb

    platform.deliver("crm/contacts_2024-03-05.csv", f"{CONTACT_HEADER}\n{GOOD_CONTACT}\n")
    assert platform.ingest("2024-03-04", selection="raw/crm_contacts").success  # creates the warehouse
    writer = duckdb.connect(str(platform.warehouse))  # stands in for a run in another process
    try:
        # DuckDB locks per process: only another process sees the writer's lock. A child process of
        # our own (not a multiprocessing pool, whose workers could hang the test at shutdown) with a
        # bounded wait, leaving without interpreter finalization once it has answered.
        tick = subprocess.run([sys.executable, "-c", _TICK_IN_OTHER_PROCESS, str(platform.landing), str(platform.warehouse)],
                              capture_output=True, text=True, timeout=180, cwd=Path(__file__).resolve().parents[2])
    finally:
        writer.close()
    assert tick.stdout.strip() == "skipped: busy", tick.stderr[-2000:]


_TICK_IN_OTHER_PROCESS = """
import os, sys
from pathlib import Path
from dagster_project.defs.ingest.resources import LandingZone
from dagster_project.defs.ingest.sensors import WarehouseBusy, already_loaded, landed_files
try:
    already_loaded(Path(sys.argv[2]), landed_files(LandingZone(path=sys.argv[1])))
    print("read the ledger", flush=True)
except WarehouseBusy:
    print("skipped: busy", flush=True)
os._exit(0)
"""
