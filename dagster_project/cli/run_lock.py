"""One `cxp run` at a time per CXP_HOME, and no run left behind by one that died.

A run holds an exclusive lock on `$CXP_HOME/run.lock` for its whole life. The kernel drops the lock
when the process ends, however it ends (`kill -9` included), so a run that gets the lock knows that
no other `cxp run` on this home is alive: any Dagster run that a `cxp run` started and that is still
STARTED was abandoned. Left as it is, it would hold the warehouse pool's one slot forever, and every
later run would wait for it without a word. `release_abandoned_runs` marks such runs failed and frees
their slots; the new run then replays their work (every step is idempotent: partitions are
replaced, dbt rebuilds its models).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg

LOCK_FILE = "run.lock"
# Tags of the Dagster runs `cxp run` starts: who started them, and the process that executes them.
LAUNCHER_TAG, PID_TAG = "cxp/launcher", "cxp/pid"
LAUNCHER = "cxp run"
_UNFINISHED = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
               dg.DagsterRunStatus.CANCELING]


class RunInProgress(Exception):
    """Another `cxp run` is running on the same CXP_HOME."""


@dataclass(frozen=True)
class AbandonedRun:
    run_id: str
    pid: str
    status: str


def run_tags() -> dict[str, str]:
    """The tags that mark a Dagster run as this process's `cxp run`."""
    return {LAUNCHER_TAG: LAUNCHER, PID_TAG: str(os.getpid())}


@contextmanager
def exclusive_run(home: Path) -> Iterator[None]:
    """Hold CXP_HOME's run lock for the duration; raise `RunInProgress`, naming the process that
    holds it, when another run has it."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    # The home holds personal data: closed to other users, also when an older cxp created it 0755.
    home.chmod(0o700)
    path = home / LOCK_FILE
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(descriptor)
            raise RunInProgress(
                f"another cxp run is using {home} (process {holder.get('pid', '?')}, started {holder.get('started_at', '?')}): "
                "wait for it to finish, or stop it (Ctrl-C or kill); a run that dies gives its lock back at once"
            ) from None
        os.ftruncate(descriptor, 0)
        os.write(descriptor, json.dumps({"pid": os.getpid(), "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}).encode())
        try:
            yield
        finally:
            os.ftruncate(descriptor, 0)
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def _read_holder(descriptor: int) -> dict:
    os.lseek(descriptor, 0, os.SEEK_SET)
    try:
        return json.loads(os.read(descriptor, 4096) or b"{}")
    except ValueError:
        return {}


def release_abandoned_runs(instance: dg.DagsterInstance) -> list[AbandonedRun]:
    """Under the run lock: mark every unfinished run a `cxp run` started as failed and free its
    concurrency slots (its process is gone, or it would hold the lock)."""
    released = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=_UNFINISHED, tags={LAUNCHER_TAG: LAUNCHER})):
        run = record.dagster_run
        pid = run.tags.get(PID_TAG, "?")
        instance.report_run_failed(run, f"Abandoned: the cxp run process ({pid}) that executed it is gone; "
                                        "the next cxp run released its warehouse slot and replays its work.")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        released.append(AbandonedRun(run.run_id, pid, run.status.value))
    return released


def foreign_slot_holders(instance: dg.DagsterInstance, pool: str) -> list[str]:
    """Runs not started by `cxp run` (the UI, the schedule) that hold or wait for `pool`'s slots:
    a `cxp run` waits for them."""
    info = instance.event_log_storage.get_concurrency_info(pool)
    run_ids = {slot.run_id for slot in info.claimed_slots} | {step.run_id for step in info.pending_steps}
    holders = []
    for run_id in sorted(run_ids):
        run = instance.get_run_by_id(run_id)
        if run is None or run.tags.get(LAUNCHER_TAG) != LAUNCHER:
            holders.append(run_id)
    return holders
