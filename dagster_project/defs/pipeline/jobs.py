"""The whole pipeline as one job, run nightly and by the landing sensor."""


from datetime import timedelta

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition


def build_pipeline_job() -> UnresolvedAssetJobDefinition:
    """Every asset, from raw files to the last mart; partitioned by extract date (Dagster infers
    the partitions from the raw assets)."""
    return dg.define_asset_job("cxp_pipeline", selection=dg.AssetSelection.all())


def build_nightly_schedule(job: UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    """At 03:00 UTC, load yesterday's exports and rebuild everything downstream."""

    @dg.schedule(job=job, cron_schedule="0 3 * * *", execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.RUNNING)
    def nightly_pipeline_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        """The nightly run of the whole pipeline for the previous extract date."""
        extract_date = (context.scheduled_execution_time - timedelta(days=1)).date()
        return dg.RunRequest(run_key=f"nightly-{extract_date.isoformat()}", partition_key=extract_date.isoformat())

    return nightly_pipeline_schedule
