"""The HTTP feature server started for real (`cxp serve` on a free loopback port), for tests."""

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(ready, errors: type[Exception] | tuple[type[Exception], ...], attempts: int, pause: float, what: str) -> None:
    """Poll `ready()` (a server coming up) until it returns true; the given errors mean "not yet".
    Raises TimeoutError naming `what` if it never does, so a test fails where the wait did, not later."""
    last_error: Exception | None = None
    for _ in range(attempts):
        try:
            if ready():
                return
        except errors as error:
            last_error = error
        time.sleep(pause)
    raise TimeoutError(f"{what} was not ready after {attempts} tries {pause} s apart") from last_error


@contextlib.contextmanager
def running_feature_server(log_dir: Path) -> Iterator[str]:
    """`cxp serve` of the configured platform until the block ends; yields its base URL once healthy."""
    port = free_port()
    log = (log_dir / "server.log").open("w")
    server = subprocess.Popen([str(Path(sys.executable).with_name("cxp")), "serve", "--port", str(port)], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: requests.get(f"{url}/health", timeout=1).ok, requests.ConnectionError, attempts=300, pause=0.1,
                   what=f"the feature server at {url} (its log: {log.name})")
        yield url
    finally:
        server.terminate()
        server.wait(20)
        log.close()


def online_features(url: str, service: str, customers: list[str]) -> dict[str, list]:
    """POST /get-online-features for the customers; each feature's values in the customers' order."""
    response = requests.post(f"{url}/get-online-features", timeout=10,
                             json={"feature_service": service, "entities": {"customer_id": customers}})
    assert response.status_code == 200, response.text
    body = response.json()
    return {name: result["values"] for name, result in zip(body["metadata"]["feature_names"], body["results"])}
