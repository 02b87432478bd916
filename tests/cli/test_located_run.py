"""Runs `cxp run` makes belong to the code location's job (the adapter over Dagster's run origins)."""

import dagster as dg

from dagster_project.cli.located_run import execute_as_location_run, workspace_job_origin
from dagster_project.settings import REPO_ROOT


@dg.asset
def answer() -> int:
    return 42


def test_an_in_process_run_is_filed_under_the_workspace_location_and_its_job():
    job = dg.Definitions(assets=[answer], jobs=[dg.define_asset_job("cxp_pipeline")]).resolve_job_def("cxp_pipeline")
    origin = workspace_job_origin(REPO_ROOT / "workspace.yaml", job.name)
    with dg.DagsterInstance.ephemeral() as instance:
        result = execute_as_location_run(job, instance, origin, run_config={}, tags={"cxp/test": "yes"},
                                         asset_selection=[dg.AssetKey("answer")])
        assert result.success
        assert [event.asset_key for event in result.get_asset_materialization_events()] == [dg.AssetKey("answer")]
        # The UI's job page and timeline ask for runs by job name and this tag.
        runs = instance.get_runs(filters=dg.RunsFilter(job_name="cxp_pipeline", tags={".dagster/repository": "__repository__@cxp"}))
        assert [run.run_id for run in runs] == [result.run_id]
        (run,) = runs
        assert run.remote_job_origin.location_name == "cxp" and run.tags["cxp/test"] == "yes"
