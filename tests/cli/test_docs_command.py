"""`cxp docs` as a person runs it: it serves on loopback, says what is not there yet, and stops
cleanly on Ctrl-C or SIGTERM."""

import os
import signal
import socket
import subprocess
import urllib.request

import pytest

from tests.cli.cxp_process import CXP


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_cxp_docs_serves_the_index_and_stops_on_a_signal(cxp_home, stop):
    port = free_port()
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen([CXP, "docs", "--port", str(port)], env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        started = next((line for line in server.stdout if line.startswith("Docs on")), "")
        assert started == f"Docs on http://127.0.0.1:{port}/ (quality reports: /quality/, dbt docs: /dbt/); Ctrl-C stops.\n"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            index = response.read().decode()
        # A new home: no validation yet, no warehouse to document.
        assert "Quality reports: none yet" in index and "No warehouse yet" in index
        server.send_signal(stop)
        output, _ = server.communicate(timeout=20)
    finally:
        server.kill()
    assert server.returncode == 0 and "Stopped." in output and "Traceback" not in output, output
