"""Serving drill: apps read the feature server without pause while `cxp run` publishes nights.

Generates a demo, loads all days but the last `--nights` (`cxp run`), starts `cxp serve`, records
each reader batch's answer, then loads the held-back days one nightly run at a time (`cxp run
--date`) while `--clients` threads read `personalization_app` for batches of `--batch` customers
as fast as the server answers, recording every batch's answer again after each night. Every read
must succeed and equal, batch for batch, the answer of one of those states (before the first
night, after each): anything else is a mixed (torn) response. Features derived at request time
(`days_since_*`, `tenure_days`) are left out of the comparison. Prints reads, errors (with a
sample), answers per state, mixed answers, throughput and latency.

    uv run python bench/serving_drill.py [--customers 1500] [--days 60] [--nights 1] [--clients 4] [--batch 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import requests

# Derived when the request is served, from the request's own clock: they change between any two reads.
REQUEST_TIME_FEATURES = ("days_since_", "tenure_days")


def answer_of(body: dict) -> tuple:
    """What a response says, minus the request-time features: names, values, statuses, event times."""
    names = body["metadata"]["feature_names"]
    return tuple((name, tuple(map(repr, result["values"])), tuple(result["statuses"]), tuple(result.get("event_timestamps", [])))
                 for name, result in zip(names, body["results"]) if not name.startswith(REQUEST_TIME_FEATURES))


@dataclass
class DrillResult:
    reads: int = 0
    errors: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    answers: list[tuple[int, tuple]] = field(default_factory=list)

    def compare(self, *states: list[tuple]) -> tuple[list[int], int]:
        """Answers per state (the first state each equals), and answers equal to none: mixed."""
        counts = [0] * len(states)
        mixed = 0
        for batch, answer in self.answers:
            match = next((index for index, state in enumerate(states) if answer == state[batch]), None)
            if match is None:
                mixed += 1
            else:
                counts[match] += 1
        return counts, mixed


class ReadDrill:
    """Reader threads hammering `/get-online-features` until stopped; every answer kept."""

    def __init__(self, url: str, batches: list[list[str]], clients: int = 2, service: str = "personalization_app"):
        self.url, self.batches, self.clients, self.service = url, batches, clients, service
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.result = DrillResult()

    def read(self, session: requests.Session, batch: int) -> tuple:
        response = session.post(f"{self.url}/get-online-features", timeout=30,
                                json={"feature_service": self.service, "entities": {"customer_id": self.batches[batch]}})
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
        return answer_of(response.json())

    def snapshot(self) -> list[tuple]:
        """Every batch's answer now, read one after another (no writer may be running)."""
        with requests.Session() as session:
            return [self.read(session, batch) for batch in range(len(self.batches))]

    def _client(self, offset: int) -> None:
        batch = offset
        with requests.Session() as session:
            while not self._stop.is_set():
                batch = (batch + 1) % len(self.batches)
                started = time.perf_counter()
                try:
                    answer = self.read(session, batch)
                except Exception as error:  # a failed read is the drill's finding, not its end
                    with self._lock:
                        self.result.reads += 1
                        self.result.errors[str(error)[:200]] += 1
                    continue
                elapsed = time.perf_counter() - started
                with self._lock:
                    self.result.reads += 1
                    self.result.latencies.append(elapsed)
                    self.result.answers.append((batch, answer))

    def __enter__(self) -> ReadDrill:
        self._started = time.perf_counter()
        self._threads = [threading.Thread(target=self._client, args=(i,), daemon=True) for i in range(self.clients)]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)
        self.result.seconds = time.perf_counter() - self._started


def report(result: DrillResult, *states: list[tuple]) -> str:
    counts, mixed = result.compare(*states)
    latencies = sorted(result.latencies) or [0.0]
    lines = [f"reads {result.reads:,} in {result.seconds:.1f} s ({result.reads / max(result.seconds, 1e-9):.0f}/s); "
             f"errors {sum(result.errors.values())}; answers per state (before, after each night) "
             f"{', '.join(f'{count:,}' for count in counts)}; mixed {mixed}",
             f"latency p50 {statistics.median(latencies) * 1000:.0f} ms, p99 {latencies[int(len(latencies) * 0.99)] * 1000:.0f} ms"]
    lines += [f"  error ×{count}: {message}" for message, count in result.errors.most_common(5)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1500)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--nights", type=int, default=1, help="Nightly runs read across, one per held-back day.")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--batches", type=int, default=25)
    parser.add_argument("--workdir", type=Path)
    arguments = parser.parse_args()
    import duckdb

    from tests.features.feature_server import free_port, wait_until

    workdir = arguments.workdir or Path(tempfile.mkdtemp(prefix="cxp-serving-drill-"))
    home, landing, held_back = workdir / "home", workdir / "landing", workdir / "held-back"
    last_day = date.today() - timedelta(days=1)
    nights = [last_day - timedelta(days=n) for n in reversed(range(arguments.nights))]
    cxp = str(Path(sys.executable).with_name("cxp"))
    environment = {**os.environ, "CXP_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"), "CXP_LANDING": str(landing)}
    subprocess.run([cxp, "generate", "--customers", str(arguments.customers), "--days", str(arguments.days), "--out", str(landing)],
                   env=environment, check=True, capture_output=True)
    for night in nights:
        for path in landing.rglob(f"*_{night.isoformat()}.*"):
            (held_back / path.relative_to(landing)).parent.mkdir(parents=True, exist_ok=True)
            path.rename(held_back / path.relative_to(landing))
    started = time.perf_counter()
    subprocess.run([cxp, "run"], env=environment, check=True, capture_output=True)
    print(f"first load: {time.perf_counter() - started:.0f} s")
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as connection:
        customers = [c for (c,) in connection.execute(
            f"SELECT customer_id FROM marts.dim_customers ORDER BY hash(customer_id) LIMIT {arguments.batch * arguments.batches}").fetchall()]
    batches = [customers[i:i + arguments.batch] for i in range(0, len(customers), arguments.batch)]

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (workdir / "server.log").open("w")
    server = subprocess.Popen([cxp, "serve", "--port", str(port)], env=environment, stdout=log, stderr=log)
    runs = []
    try:
        wait_until(lambda: requests.get(f"{url}/health", timeout=1).ok, requests.ConnectionError, attempts=600, pause=0.1,
                   what=f"the feature server at {url}")
        drill = ReadDrill(url, batches, clients=arguments.clients)
        states = [drill.snapshot()]
        with drill:
            for night in nights:
                for path in [p for p in held_back.rglob(f"*_{night.isoformat()}.*") if p.is_file()]:
                    path.rename(landing / path.relative_to(held_back))
                started = time.perf_counter()
                nightly = subprocess.run([cxp, "run", "--date", night.isoformat()], env=environment, capture_output=True, text=True)
                runs.append((night, nightly.returncode, time.perf_counter() - started, nightly.stdout[-2000:]))
                time.sleep(5)  # the new night's answers are read too
                states.append(drill.snapshot())  # no run is writing: one consistent state
    finally:
        server.terminate()
        server.wait(30)
        log.close()
    for night, code, seconds, output in runs:
        print(f"nightly run {night}: exit {code}, {seconds:.0f} s" + ("" if code == 0 else f"\n{output}"))
    changed = [sum(b != a for b, a in zip(before, after)) for before, after in zip(states, states[1:])]
    print(f"{len(batches)} batches of {arguments.batch} customers; changed per night {changed}; {arguments.clients} clients")
    print(report(drill.result, *states))


if __name__ == "__main__":
    main()
