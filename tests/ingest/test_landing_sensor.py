"""The landing sensor starts one run for new and re-delivered files, and none when nothing changed."""

from datetime import datetime, timezone

import dagster as dg
import pytest
from dagster_duckdb import DuckDBResource

from dagster_project.defs.ingest.resources import LandingZone
from dagster_project.defs.ingest.sensors import build_landing_sensor
from dagster_project.defs.pipeline.jobs import build_nightly_schedule, build_pipeline_job
from tests.ingest.conftest import PARTITIONS, RAW_ASSETS
from tests.ingest.test_readers import CONTACT_HEADER, GOOD_CONTACT

JOB = build_pipeline_job(PARTITIONS)
SENSOR = build_landing_sensor(JOB, PARTITIONS)


@dg.asset(deps=[asset.key for asset in RAW_ASSETS])
def downstream_model() -> None:
    """Stands in for the dbt models that hang off the raw assets."""


@pytest.fixture
def evaluate(platform):
    resources = {"landing": LandingZone(path=str(platform.landing)), "warehouse": DuckDBResource(database=str(platform.warehouse))}
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
