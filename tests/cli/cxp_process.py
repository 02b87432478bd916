"""`cxp run` as its own process, as a user or a service manager starts it: to kill it, stop it,
or run two at once."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from dagster_project.cli.run_lock import LAUNCHER, LAUNCHER_TAG
from tests.conftest import FIXTURES

CXP = str(Path(sys.executable).with_name("cxp"))
HAND_WRITTEN_LANDING = FIXTURES / "hand_written_landing"
# Long enough for a run of the hand-written landing on a loaded CI machine; a run stuck behind an
# abandoned slot never ends.
RUN_TIMEOUT_SECONDS = 420


def cxp_environment(home: Path) -> dict[str, str]:
    return {**os.environ, "CXP_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"), "CXP_LANDING": str(HAND_WRITTEN_LANDING),
            "PYTHONUNBUFFERED": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}


def cxp_run(home: Path) -> subprocess.CompletedProcess:
    """A whole `cxp run` of the hand-written landing in `home`."""
    return subprocess.run([CXP, "run"], env=cxp_environment(home), capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS)


def start_cxp_run_until_a_raw_step(home: Path) -> tuple[subprocess.Popen, str]:
    """Start `cxp run` and return it once a raw step (which holds the warehouse slot) has begun,
    with the output read so far."""
    running = subprocess.Popen([CXP, "run"], env=cxp_environment(home), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    for line in running.stdout:
        seen.append(line)
        if "▶ raw__" in line:
            break
    return running, "".join(seen)


def unfinished_cxp_runs(home: Path) -> list[dg.DagsterRun]:
    """Dagster runs a `cxp run` started in `home` that never finished."""
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        return [record.dagster_run for record in instance.get_run_records(dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING], tags={LAUNCHER_TAG: LAUNCHER}))]


def claimed_warehouse_slots(home: Path) -> list:
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        return instance.event_log_storage.get_concurrency_info("warehouse").claimed_slots
