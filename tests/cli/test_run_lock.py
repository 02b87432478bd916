"""One `cxp run` per home at a time, stopped cleanly by SIGTERM; a run killed outright never blocks
the next one (tests/cli/test_cxp_run.py compares the next run's tables with a clean run's)."""

import os

import pytest

from dagster_project.cli.run_lock import RunInProgress, exclusive_run
from tests.cli.cxp_process import claimed_warehouse_slots, cxp_run, start_cxp_run_until_a_raw_step, unfinished_cxp_runs

pytestmark = pytest.mark.slow


def test_a_second_run_on_the_same_home_is_refused_with_the_first_ones_process(cxp_home):
    with exclusive_run(cxp_home):
        with pytest.raises(RunInProgress, match=f"another cxp run is using .* \\(process {os.getpid()}, started "):
            with exclusive_run(cxp_home):
                pass
        refused = cxp_run(cxp_home)
        assert refused.returncode != 0 and f"process {os.getpid()}" in refused.stderr
    # Released when the holder ends: the next one gets it.
    with exclusive_run(cxp_home):
        pass


def test_sigterm_stops_a_run_as_ctrl_c_does_and_frees_its_slot(cxp_home):
    running, _ = start_cxp_run_until_a_raw_step(cxp_home)
    running.terminate()
    output = running.stdout.read()
    assert running.wait(timeout=120) != 0
    assert "was stopped (Ctrl-C or SIGTERM)" in output and "the next cxp run replays its work" in output
    assert unfinished_cxp_runs(cxp_home) == []
    assert claimed_warehouse_slots(cxp_home) == []
