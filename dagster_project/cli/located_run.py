"""`cxp run`'s runs as runs of the code location's job, so the UI files them under it.

A run made by `execute_in_process` has no code location: the UI's job page, its run history and
the Overview timeline (which look runs up by the `.dagster/repository` tag an origin adds) never
show it, and re-executing it from the UI comes with a warning. This creates the run with the
origin of `workspace.yaml`'s location, then executes it in this process as before. The Dagster
internals it needs are named here alone; tests/cli/test_located_run.py fails when they move.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import dagster as dg
from dagster._core.definitions.job_base import InMemoryJob
from dagster._core.definitions.repository_definition.valid_definitions import SINGLETON_REPOSITORY_NAME
from dagster._core.execution.api import execute_run
from dagster._core.execution.execution_result import ExecutionResult
from dagster._core.remote_origin import RemoteJobOrigin, RemoteRepositoryOrigin
from dagster._core.workspace.load_target import WorkspaceFileTarget


def workspace_job_origin(workspace_file: Path, job_name: str) -> RemoteJobOrigin:
    """The origin the UI gives `job_name` when it loads `workspace_file` (its one code location)."""
    (location,) = WorkspaceFileTarget(paths=[str(workspace_file)]).create_origins()
    return RemoteJobOrigin(RemoteRepositoryOrigin(location, SINGLETON_REPOSITORY_NAME), job_name)


def execute_as_location_run(job: dg.JobDefinition, instance: dg.DagsterInstance, origin: RemoteJobOrigin,
                            run_config: Mapping[str, object], tags: Mapping[str, str],
                            asset_selection: Sequence[dg.AssetKey]) -> ExecutionResult:
    """Run `job` here, in-process, recorded as a run of the location's job (errors end up in the result)."""
    # What execute_in_process runs: the job on the in-process executor.
    job = job.as_ephemeral_job(resource_defs={}, input_values={})
    run = instance.create_run_for_job(
        job_def=job, run_config=run_config, tags={**job.run_tags, **tags},
        asset_selection=frozenset(asset_selection), remote_job_origin=origin,
    )
    return execute_run(InMemoryJob(job), run, instance, raise_on_error=False)
