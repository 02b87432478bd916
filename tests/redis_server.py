"""A real redis-server on a free loopback port, started and stopped by the tests that need one."""

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.features.feature_server import free_port, wait_until


@contextlib.contextmanager
def running_redis(directory: Path) -> Iterator[int]:
    """Start redis-server (no persistence) and yield its port. Without one the test is skipped on a
    developer's machine, and fails where CXP_REQUIRE_REDIS is set (CI): a skip there is a test that did not run."""
    executable = shutil.which("redis-server")
    if executable is None:
        (pytest.fail if os.environ.get("CXP_REQUIRE_REDIS") else pytest.skip)("redis-server is not installed (apt-get install redis-server); the Redis online store is not tested here")
    port = free_port()
    server = subprocess.Popen([executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(directory)],
                              stdout=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    try:
        wait_until(client.ping, redis.ConnectionError, attempts=100, pause=0.05)
        yield port
    finally:
        server.terminate()
        server.wait(10)
