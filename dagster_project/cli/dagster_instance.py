"""The Dagster instance that `cxp run` and `cxp ui` share, so runs from either show in the UI."""

import os

from dagster_project.defs.pipeline.planned_check_events import plan_unpartitioned_checks_once
from dagster_project.settings import Settings

_INSTANCE_CONFIG = """\
# Written by cxp. Steps that write the DuckDB warehouse share one pool of one slot:
# DuckDB admits a single writing process per file.
concurrency:
  pools:
    default_limit: 1
telemetry:
  enabled: false
"""


def prepare_dagster_home(settings: Settings) -> str:
    """Point DAGSTER_HOME at the platform's instance (unless set) and give it cxp's instance config."""
    # A year's backfill is one run over 365 partitions per asset. By default Dagster writes one
    # "planned" event per partition and asset (2,190 SQLite commits, ~70 s); this writes one per
    # asset. Partitions of a failed run then show as missing rather than failed; the raw assets
    # still record every day that did load.
    os.environ.setdefault("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "true")
    # Likewise the checks of unpartitioned assets (dbt tests, feature checks): one row each, not one per day.
    plan_unpartitioned_checks_once()
    home = os.environ.setdefault("DAGSTER_HOME", str(settings.dagster_home))
    config = os.path.join(home, "dagster.yaml")
    os.makedirs(home, exist_ok=True)
    if not os.path.exists(config):
        with open(config, "w", encoding="utf-8") as handle:
            handle.write(_INSTANCE_CONFIG)
    return home
