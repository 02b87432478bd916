"""Assembles the platform: each stage's definitions merged into one `Definitions`."""

from __future__ import annotations

import dagster as dg

from dagster_project.defs.dbt.definitions import dbt_definitions
from dagster_project.defs.features.definitions import feature_store_definitions
from dagster_project.defs.ingest.definitions import ingest_definitions
from dagster_project.defs.ingest.partitions import extract_date_partitions
from dagster_project.defs.ingest.sensors import build_landing_sensor
from dagster_project.defs.measurement.definitions import measurement_definitions
from dagster_project.defs.ml.definitions import model_definitions
from dagster_project.defs.pipeline.jobs import build_nightly_schedule, build_pipeline_job
from dagster_project.defs.privacy.definitions import privacy_definitions
from dagster_project.defs.quality.definitions import quality_definitions
from dagster_project.ingest.extract_dates import first_partition_date
from dagster_project.settings import Settings, load_settings


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    """Assemble the platform for one configuration (the environment's, unless given)."""
    settings = settings or load_settings()
    settings.ensure_directories()
    settings.export_environment()
    partitions = extract_date_partitions(first_partition_date(settings.landing, settings.dagster_home, settings.partition_start))
    pipeline = build_pipeline_job()
    return dg.Definitions.merge(
        ingest_definitions(settings, partitions),
        privacy_definitions(),
        dbt_definitions(settings),
        quality_definitions(settings),
        feature_store_definitions(settings),
        model_definitions(settings),
        measurement_definitions(),
        dg.Definitions(
            jobs=[pipeline],
            sensors=[build_landing_sensor(pipeline, partitions)],
            schedules=[build_nightly_schedule(pipeline)],
            # Steps share one DuckDB file, which admits a single writing process.
            executor=dg.in_process_executor,
        ),
    )
