"""`cxp ui` as a user starts it in a terminal: quiet, and gone when Ctrl-C is pressed."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.features.feature_server import free_port
from tests.ui.browser import wait_for_http

pytestmark = pytest.mark.slow

CXP = str(Path(sys.executable).with_name("cxp"))


def test_the_ui_prints_no_warning_and_ctrl_c_ends_every_process_it_started(tmp_path):
    port = free_port()
    environment = {**{k: v for k, v in os.environ.items() if not k.startswith(("CXP_", "DAGSTER_", "DBT_"))},
                   "CXP_HOME": str(tmp_path / "home"), "DAGSTER_HOME": str(tmp_path / "home" / "dagster")}
    log = tmp_path / "ui.log"
    # Its own session, as a terminal gives it: Ctrl-C signals the whole foreground group.
    ui = subprocess.Popen([CXP, "ui", "--port", str(port)], env=environment, stdout=log.open("w"), stderr=subprocess.STDOUT,
                          start_new_session=True)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/server_info", ui, log)
        time.sleep(15)  # Dagster snapshots the location's schedules after it serves: that is when it warned
        os.killpg(ui.pid, signal.SIGINT)
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline and _group_alive(ui):
            time.sleep(0.5)
        assert not _group_alive(ui), f"processes of `cxp ui` outlived Ctrl-C by 45 s:\n{log.read_text()[-2000:]}"
    finally:
        if _group_alive(ui):
            os.killpg(ui.pid, signal.SIGKILL)
    output = log.read_text()
    assert "Warning" not in output and "warnings.warn" not in output, output


def _group_alive(leader: subprocess.Popen) -> bool:
    leader.poll()  # reaped once it exits, or its zombie would count
    try:
        os.killpg(leader.pid, 0)
    except ProcessLookupError:
        return False
    return True
