"""One `cxp run` per home at a time, and a run killed mid-way never blocks the next one: the next
run releases what it left, replays its work and ends with the same tables as a clean run."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.cli.run_lock import LAUNCHER, LAUNCHER_TAG, RunInProgress, exclusive_run
from tests.cli.test_cxp_run import LANDING, snapshot

pytestmark = pytest.mark.slow

CXP = str(Path(sys.executable).with_name("cxp"))
# Long enough for a run of the hand-written landing on a loaded CI machine; a run stuck behind an
# abandoned slot never ends.
RUN_TIMEOUT_SECONDS = 420


def _environment(home: Path) -> dict[str, str]:
    return {**os.environ, "CXP_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"), "CXP_LANDING": str(LANDING),
            "PYTHONUNBUFFERED": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}


def _cxp_run(home: Path) -> subprocess.CompletedProcess:
    return subprocess.run([CXP, "run"], env=_environment(home), capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS)


def _unfinished_cxp_runs(home: Path) -> list[dg.DagsterRun]:
    os.environ["DAGSTER_HOME"] = str(home / "dagster")
    with dg.DagsterInstance.get() as instance:
        return [record.dagster_run for record in instance.get_run_records(dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING], tags={LAUNCHER_TAG: LAUNCHER}))]


def test_a_second_run_on_the_same_home_is_refused_with_the_first_ones_process(cxp_home):
    with exclusive_run(cxp_home):
        with pytest.raises(RunInProgress, match=f"another cxp run is using .* \\(process {os.getpid()}, started "):
            with exclusive_run(cxp_home):
                pass
        refused = _cxp_run(cxp_home)
        assert refused.returncode != 0 and f"process {os.getpid()}" in refused.stderr
    # Released when the holder ends: the next one gets it.
    with exclusive_run(cxp_home):
        pass


def test_a_killed_run_is_released_by_the_next_which_ends_with_a_clean_runs_tables(tmp_path, cxp_home):
    clean = _cxp_run(tmp_path / "clean")
    assert clean.returncode == 0, clean.stdout[-3000:] + clean.stderr[-3000:]

    # Killed (SIGKILL: nothing of it runs again) while a raw step holds the warehouse pool's one slot.
    killed = subprocess.Popen([CXP, "run"], env=_environment(cxp_home), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in killed.stdout:
        if "▶ raw__" in line:
            killed.kill()
            break
    killed.wait(timeout=60)
    (abandoned,) = _unfinished_cxp_runs(cxp_home)

    rerun = _cxp_run(cxp_home)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert f"Released run {abandoned.run_id}" in rerun.stdout
    assert _unfinished_cxp_runs(cxp_home) == []
    assert snapshot(cxp_home / "warehouse.duckdb") == snapshot(tmp_path / "clean" / "warehouse.duckdb")


def test_sigterm_stops_a_run_as_ctrl_c_does_and_frees_its_slot(cxp_home):
    running = subprocess.Popen([CXP, "run"], env=_environment(cxp_home), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in running.stdout:
        if "▶ raw__" in line:
            running.terminate()
            break
    output = running.stdout.read()
    assert running.wait(timeout=120) != 0
    assert "was stopped (Ctrl-C or SIGTERM)" in output and "the next cxp run replays its work" in output
    assert _unfinished_cxp_runs(cxp_home) == []
    with dg.DagsterInstance.get() as instance:
        assert instance.event_log_storage.get_concurrency_info("warehouse").claimed_slots == []
