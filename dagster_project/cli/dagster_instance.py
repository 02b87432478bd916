"""The Dagster instance that `cxp run` and `cxp ui` share, so runs from either show in the UI."""

import os

from dagster_project.defs.pipeline import event_log_storage
from dagster_project.defs.pipeline.planned_check_events import plan_unpartitioned_checks_once
from dagster_project.settings import Settings

_WRITTEN_BY_CXP = "# Written by cxp."
_INSTANCE_CONFIG = _WRITTEN_BY_CXP + """ Steps that write the DuckDB warehouse share one pool of one slot:
# DuckDB admits a single writing process per file.
concurrency:
  pools:
    default_limit: 1
telemetry:
  enabled: false
# Dagster's SQLite event log, keeping its connections (defs/pipeline/event_log_storage.py); the
# run and schedule storages are Dagster's defaults, in the same folders.
event_log_storage:
  module: {module}
  class: {cls}
  config:
    base_dir: {base_dir}
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
    wanted = _INSTANCE_CONFIG.format(module=event_log_storage.MODULE, cls=event_log_storage.CLASS,
                                     base_dir=os.path.join(os.path.abspath(home), "history", "runs", ""))
    # A config cxp wrote earlier (or for a home since moved) is brought up to date; one a user wrote is theirs.
    current = open(config, encoding="utf-8").read() if os.path.exists(config) else None
    if current is None or (current.startswith(_WRITTEN_BY_CXP) and current != wanted):
        with open(config, "w", encoding="utf-8") as handle:
            handle.write(wanted)
    return home
