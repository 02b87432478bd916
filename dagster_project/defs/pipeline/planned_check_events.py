"""Dagster adapter: each check is planned once per run, not once per partition of the run.

A `cxp run` over many days is one Dagster run over a range of daily partitions. Dagster (1.13)
hands the run's partitions to the planned event of every step in it, whether the asset or check
has partitions or not, and its event store writes one `asset_check_executions` row per partition
for each planned check. A 365-day run wrote ~90,000 rows (~230 MB of Dagster's index; ~11 s of a
45-day test run went to writing them), and because a check's result in a range run carries no
partition, those rows stayed "planned" for ever beside the one row that holds the result. Here an
entity without a partitions definition of its own (every check; the dbt, identity, feature and ML
assets) gets no partitions in its planned event, as in a run without partitions; the raw loads,
which are partitioned, keep theirs.

The one Dagster internal touched: `DagsterRun.get_resolved_partitions_subset_for_events`.
tests/pipeline/test_planned_check_events.py fails when it changes shape or stops mattering.
"""

from __future__ import annotations

import functools

from dagster._core.storage.dagster_run import DagsterRun

_PATCHED = "_cxp_unpartitioned_entities_plan_no_partitions"


def plan_unpartitioned_checks_once() -> None:
    """Make this process's planned events give partitions only to partitioned assets and checks (idempotent)."""
    resolve = DagsterRun.get_resolved_partitions_subset_for_events
    if getattr(resolve, _PATCHED, False):
        return

    @functools.wraps(resolve)
    def resolve_for_partitioned_entities(self: DagsterRun, partitions_def):
        if partitions_def is None:
            return None
        return resolve(self, partitions_def)

    setattr(resolve_for_partitioned_entities, _PATCHED, True)
    DagsterRun.get_resolved_partitions_subset_for_events = resolve_for_partitioned_entities
