"""A real redis-server on a free loopback port, started and stopped by the tests that need one."""

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

from tests.features.feature_server import free_port, wait_until

_NOT_INSTALLED = "redis-server is not installed (apt-get install redis-server); the Redis online store is not tested here"


def _without_redis(why: str) -> NoReturn:
    """Skip the test on a developer's machine; fail it where CXP_REQUIRE_REDIS is set (CI): a skip there is a test that did not run."""
    (pytest.fail if os.environ.get("CXP_REQUIRE_REDIS") else pytest.skip)(why)


@contextlib.contextmanager
def running_redis(directory: Path) -> Iterator[int]:
    """Start redis-server (no persistence) and yield its port; without one installed the test is skipped (failed in CI)."""
    executable = shutil.which("redis-server")
    if executable is None:
        _without_redis(_NOT_INSTALLED)
    port = free_port()
    server = subprocess.Popen([executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(directory)],
                              stdout=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    try:
        wait_until(client.ping, redis.ConnectionError, attempts=100, pause=0.05, what=f"redis-server on port {port}")
        yield port
    finally:
        server.terminate()
        server.wait(10)


@dataclass(frozen=True)
class OptionalRedis:
    """The redis-server of a fixture whose other tests need none: its port, or None where none is installed."""

    port: int | None

    def require(self) -> int:
        """The port, for a test of the Redis online store; without a server the test is skipped (failed in CI)."""
        if self.port is None:
            _without_redis(_NOT_INSTALLED)
        return self.port


@contextlib.contextmanager
def redis_if_installed(directory: Path) -> Iterator[OptionalRedis]:
    """`running_redis` where redis-server is installed; elsewhere no server, and only the tests that
    `require()` it skip (fail in CI). A server that is installed but does not start fails the fixture."""
    if shutil.which("redis-server") is None:
        yield OptionalRedis(None)
        return
    with running_redis(directory) as port:
        yield OptionalRedis(port)
