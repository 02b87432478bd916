"""Time the identity stage (Dagster asset group `identity`) on built homes; print wall time, peak memory, per step.

Each CXP_HOME must have been through `cxp generate` + `cxp run`, so its warehouse holds the
staging tables. The warehouse is copied into a temporary home (the original is never opened
for writing) and the copy's identity state is dropped, so the first pass resolves from scratch:
the dbt models int_identity_nodes, int_identity_identifiers_assessed and
int_identity_edges_deterministic, Splink training and scoring (identity/probabilistic_match_pairs),
then clustering and stable customer ids. Each pass is one `dagster asset materialize --select
group:identity` process on the real `Definitions`, its peak resident memory summed over the
process tree (dbt runs as a subprocess); further passes rerun on the same copy, with the
previous pass's ids as state, as the nightly run does.

    uv run python bench/identity_resolution.py /tmp/cxp25k /tmp/cxp250k --passes 2 --memory-limit 4GB
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import psutil
from ingest_and_stage import run_measured  # bench/ is the script's directory, hence on sys.path

from dagster_project.cli.dagster_instance import prepare_dagster_home
from dagster_project.settings import load_settings

DAGSTER = str(Path(sys.executable).with_name("dagster"))
SPLINK_STEP = "identity__probabilistic_match_pairs"
IDENTITY_STATE = ("customer_id_assignments", "customer_id_events", "retired_customer_ids", "probabilistic_match_pairs")


class TreeSampler(threading.Thread):
    """Resident memory of every process below this one, with wall-clock times, to attribute peaks to steps."""

    def __init__(self, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        me = psutil.Process()
        while not self._halt.is_set():
            total = 0
            for child in me.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except psutil.Error:
                    pass
            self.samples.append((time.time(), total))
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def peak_between(self, start: float, end: float) -> int:
        return max((rss for at, rss in self.samples if start <= at <= end), default=0)


@dataclass
class PassResult:
    wall_s: float
    peak_bytes: int
    steps: list[tuple[str, float, int]] = field(default_factory=list)
    """step key, seconds, peak bytes of the process tree while it ran."""
    metadata: dict[str, dict] = field(default_factory=dict)
    """asset key -> materialization metadata."""
    dbt_models: list[tuple[str, float]] = field(default_factory=list)
    checks_failed: list[str] = field(default_factory=list)


def prepare_copy(source_home: Path, workdir: Path) -> dict[str, str]:
    """A fresh home holding a copy of the warehouse without identity state; the environment to run in it."""
    warehouse = source_home / "warehouse.duckdb"
    if not warehouse.exists():
        raise SystemExit(f"{warehouse} does not exist: run `cxp generate` and `cxp run` with CXP_HOME={source_home} first.")
    home = workdir / "home"
    home.mkdir(parents=True)
    for suffix in ("", ".wal"):
        if Path(f"{warehouse}{suffix}").exists():
            shutil.copyfile(f"{warehouse}{suffix}", home / f"warehouse.duckdb{suffix}")
    # The compiled manifest and dbt's partial-parse cache, as a nightly run finds them.
    if (source_home / "dbt" / "target").is_dir():
        shutil.copytree(source_home / "dbt" / "target", home / "dbt" / "target")
    with duckdb.connect(str(home / "warehouse.duckdb")) as connection:
        for table in IDENTITY_STATE:
            connection.execute(f"DROP TABLE IF EXISTS identity.{table}")
        connection.execute("CHECKPOINT")
    env = {
        name: value for name, value in os.environ.items()
        if not name.startswith(("CXP_", "DBT_")) and name != "DAGSTER_HOME"
    }
    env.update({"CXP_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})
    saved = dict(os.environ)
    try:  # prepare_dagster_home reads and sets os.environ: run it against the copy's environment.
        os.environ.clear()
        os.environ.update(env)
        settings = load_settings()
        settings.ensure_directories()
        prepare_dagster_home(settings)
        env = dict(os.environ)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return env


def materialize(env: dict[str, str], run_config: dict, log: Path, sampler: TreeSampler) -> PassResult:
    """One `dagster asset materialize --select group:identity` process, measured; its output goes to `log`."""
    command = [
        "sh", "-c", 'exec "$0" "$@" >>"$CXP_BENCH_LOG" 2>&1',
        DAGSTER, "asset", "materialize", "-m", "dagster_project.definitions", "--select", "group:identity",
        "--config-json", json.dumps(run_config),
    ]
    try:
        wall, peak = run_measured(command, {**env, "CXP_BENCH_LOG": str(log)})
    except SystemExit:
        tail = log.read_text(errors="replace")[-4000:] if log.exists() else ""
        raise SystemExit(f"dagster asset materialize failed; last lines of {log}:\n{tail}") from None
    result = PassResult(wall_s=wall, peak_bytes=peak)
    read_run(Path(env["DAGSTER_HOME"]), result, sampler)
    run_results = Path(env["CXP_HOME"]) / "dbt" / "target" / "run_results.json"
    if run_results.exists():
        nodes = json.loads(run_results.read_text())["results"]
        result.dbt_models = [(n["unique_id"].split(".")[-1], n["execution_time"]) for n in nodes if n["unique_id"].startswith("model.")]
        tests = [n["execution_time"] for n in nodes if n["unique_id"].startswith(("test.", "unit_test."))]
        result.dbt_models.append((f"tests ({len(tests)}, summed)", sum(tests)))
        result.checks_failed = [n["unique_id"] for n in nodes if n["status"] in ("fail", "error")]
    return result


def read_run(dagster_home: Path, result: PassResult, sampler: TreeSampler) -> None:
    """Step durations and materialization metadata of the latest run in the instance."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        run = instance.get_runs(limit=1)[0]
        started: dict[str, float] = {}
        for record in instance.all_logs(run.run_id):
            event = record.dagster_event
            if event is None:
                continue
            kind = event.event_type_value
            if kind == "STEP_START":
                started[event.step_key] = record.timestamp
            elif kind in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in started:
                begin = started[event.step_key]
                result.steps.append((event.step_key, record.timestamp - begin, sampler.peak_between(begin, record.timestamp)))
            elif kind == "ASSET_MATERIALIZATION":
                materialization = event.step_materialization_data.materialization
                result.metadata[materialization.asset_key.to_user_string()] = {k: v.value for k, v in materialization.metadata.items()}


def count(warehouse: Path, sql: str) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchone()[0]


def report(label: str, result: PassResult, warehouse: Path) -> None:
    pairs = result.metadata.get("identity/probabilistic_match_pairs", {})
    ids = result.metadata.get("identity/customer_id_assignments", {})
    nodes = count(warehouse, "SELECT count(*) FROM intermediate.int_identity_nodes")
    edges = count(warehouse, "SELECT count(*) FROM intermediate.int_identity_edges_deterministic")
    print(
        f"  {label}: wall {result.wall_s:7.1f} s   peak {result.peak_bytes / 2**30:5.2f} GiB   nodes {nodes:,}   "
        f"deterministic edges {edges:,}   scored pairs {pairs.get('scored_pairs', 0):,}   accepted {pairs.get('accepted_pairs', 0):,}   "
        f"customers {ids.get('customers', 0):,} (largest {ids.get('largest_customer_records', 0):,} records; "
        f"created {ids.get('created', 0):,}, merged {ids.get('merged', 0):,}, split {ids.get('split', 0):,})",
        flush=True,
    )
    step_total = sum(seconds for _, seconds, _ in result.steps)
    for step, seconds, peak in result.steps:
        print(f"    {step:<45} {seconds:7.1f} s   peak {peak / 2**30:5.2f} GiB")
    print(f"    {'(process start, definitions load, run setup)':<45} {result.wall_s - step_total:7.1f} s")
    for model, seconds in result.dbt_models:
        print(f"      dbt {model:<41} {seconds:7.1f} s")
    if result.checks_failed:
        print(f"    dbt tests failing or erroring: {', '.join(result.checks_failed)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("homes", type=Path, nargs="+", help="CXP_HOME directories built by `cxp generate` + `cxp run`.")
    parser.add_argument("--passes", type=int, default=2, help="Materializations per home: the first from scratch, then reruns.")
    parser.add_argument("--memory-limit", help="DuckDB memory limit of the Splink session [default: the asset's config default].")
    parser.add_argument("--workdir", type=Path, help="Where the warehouse copies go [default: the system temp dir].")
    parser.add_argument("--keep", action="store_true", help="Keep the copies (and the run logs) after the bench.")
    args = parser.parse_args()
    run_config = {"ops": {SPLINK_STEP: {"config": {"memory_limit": args.memory_limit}}}} if args.memory_limit else {}
    print(f"cpus={os.cpu_count()} memory={psutil.virtual_memory().total / 2**30:.0f} GiB python={sys.version.split()[0]} "
          f"splink memory_limit={args.memory_limit or 'default'}")
    for source_home in args.homes:
        workdir = Path(tempfile.mkdtemp(prefix="cxp-identity-bench-", dir=args.workdir))
        try:
            env = prepare_copy(source_home.resolve(), workdir)
            warehouse = Path(env["CXP_HOME"]) / "warehouse.duckdb"
            print(f"{source_home} (copy in {workdir}, warehouse {warehouse.stat().st_size / 2**30:.1f} GiB)", flush=True)
            for number in range(1, args.passes + 1):
                sampler = TreeSampler()
                sampler.start()
                try:
                    result = materialize(env, run_config, workdir / f"pass-{number}.log", sampler)
                finally:
                    sampler.stop()
                report("first run" if number == 1 else f"rerun {number - 1}", result, warehouse)
        finally:
            if args.keep:
                print(f"  kept {workdir}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
