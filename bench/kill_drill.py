"""Kill drill: `cxp run` killed (SIGKILL) in each stage, then run again, against a clean run.

For every stage the drill starts `cxp run` on a fresh home, kills it `--delay` seconds after the
stage's step begins, runs `cxp run` again, and compares with a clean run of the same landing: the
row count of every warehouse table, the rows of the raw and staging tables, and every value of the
online store (but the model version names, which carry training times). A run killed after
identity resolution has done a first night's erasure pass, so its rerun is compared with the
clean home after one run and after two. It prints one line per stage; a stage that needed a
manual step or differs says so.

    uv run python bench/kill_drill.py [--workdir DIR] [--customers 300] [--days 30] [--delay 1.0]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

CXP = str(Path(sys.executable).with_name("cxp"))
# The step each stage's kill waits for.
STAGES = {
    "raw load": "raw__email_events",
    "raw quality gate": "raw_exports_quality",
    "erasure": "privacy__erasures",
    "dbt": "cxp_dbt_models",
    "identity (Splink)": "identity__probabilistic_match_pairs",
    "customer 360 (dbt)": "cxp_customer_360_models",
    "model training": "ml__churn_challenger",
    "online publication": "feature_store__online_store",
}
RUN_TIMEOUT_SECONDS = 1800


def environment(home: Path, landing: Path) -> dict[str, str]:
    return {**os.environ, "CXP_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"), "CXP_LANDING": str(landing),
            "PYTHONUNBUFFERED": "1"}


def run(home: Path, landing: Path) -> subprocess.CompletedProcess:
    return subprocess.run([CXP, "run"], env=environment(home, landing), capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS)


def run_and_kill(home: Path, landing: Path, step: str, delay: float) -> bool:
    """Start `cxp run`, SIGKILL it `delay` seconds after `step` begins; False when the run ended first."""
    process = subprocess.Popen([CXP, "run"], env=environment(home, landing), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in process.stdout:
        if f"▶ {step}" in line:
            time.sleep(delay)
            process.kill()
            process.wait()
            return True
    process.wait()
    return False


def warehouse_state(warehouse: Path) -> tuple[dict[str, int], dict[str, str]]:
    """Row counts of every table; a digest of the rows of raw and staging tables (load times aside)."""
    counts, digests = {}, {}
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        tables = connection.execute("SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'").fetchall()
        for schema, table in tables:
            name = f"{schema}.{table}"
            counts[name] = connection.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]
            if schema in ("raw", "staging") and table != "load_ledger":
                columns = [c for (c,) in connection.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
                    "AND column_name NOT IN ('_loaded_at', 'loaded_at')", [schema, table]).fetchall()]
                rows = connection.execute(f'SELECT {", ".join(chr(34) + c + chr(34) for c in columns)} FROM "{schema}"."{table}" ORDER BY ALL').fetchall()
                digests[name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return counts, digests


def online_values(home: Path) -> dict[str, str]:
    """A digest per feature view table of the online store's values (not their write times)."""
    path = home / "feature_store" / "online_store.db"
    if not path.exists():
        return {}
    digests = {}
    with sqlite3.connect(path) as connection:
        tables = [name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                  if name not in ("cxp_materialization_marker", "cxp_online_windows")]
        for table in tables:
            rows = connection.execute(f"SELECT entity_key, feature_name, value, value_text FROM {table} "
                                      "WHERE feature_name NOT LIKE '%model_version' ORDER BY 1, 2").fetchall()
            digests[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--delay", type=float, default=1.0, help="Seconds into the stage's step before the kill.")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cxp-kill-"))
    landing = workdir / "landing"
    subprocess.run([CXP, "generate", "--customers", str(args.customers), "--days", str(args.days), "--out", str(landing)],
                   check=True, capture_output=True)
    started = time.perf_counter()
    clean = run(workdir / "clean", landing)
    if clean.returncode != 0:
        raise SystemExit(f"the clean run failed:\n{clean.stdout[-3000:]}")
    print(f"clean run: {time.perf_counter() - started:.0f} s; {args.customers} people x {args.days} days; kill {args.delay} s into each step")
    first = warehouse_state(workdir / "clean" / "warehouse.duckdb"), online_values(workdir / "clean")
    # A run killed after identity resolution has carried out the first erasure pass (requests reach
    # rows sharing an email or id): its rerun completes the requests along the resolved identities,
    # as a second night does. So a rerun must equal the clean home after one run or after two.
    if run(workdir / "clean", landing).returncode != 0:
        raise SystemExit("the clean home's second run failed")
    second = warehouse_state(workdir / "clean" / "warehouse.duckdb"), online_values(workdir / "clean")
    for stage, step in STAGES.items():
        home = workdir / step
        if not run_and_kill(home, landing, step, args.delay):
            print(f"{stage:22} the run ended before {step} was killed: nothing to drill")
            continue
        started = time.perf_counter()
        rerun = run(home, landing)
        seconds = time.perf_counter() - started
        if rerun.returncode != 0:
            print(f"{stage:22} rerun FAILED after {seconds:.0f} s:\n{rerun.stdout[-2000:]}{rerun.stderr[-2000:]}")
            continue
        state = warehouse_state(home / "warehouse.duckdb"), online_values(home)
        released = "released the killed run" if "Released run" in rerun.stdout else "no run to release"
        diffs = {name: differences(state, reference) for name, reference in (("one clean run", first), ("two clean runs", second))}
        equal = [name for name, found in diffs.items() if not found]
        verdict = f"equal to {equal[0]}" if equal else f"DIFFERS from one clean run: {diffs['one clean run']}"
        print(f"{stage:22} rerun {seconds:4.0f} s, {released}; {len(state[0][0])} tables, {len(state[1])} online views: {verdict}")


def differences(state: tuple, reference: tuple) -> list[str]:
    """The tables whose row counts, raw/staging rows or online values differ."""
    (counts, digests), online = state
    (reference_counts, reference_digests), reference_online = reference
    found = [f"count {name}" for name in sorted(set(counts) | set(reference_counts)) if counts.get(name) != reference_counts.get(name)]
    found += [f"rows {name}" for name in sorted(set(digests) | set(reference_digests)) if digests.get(name) != reference_digests.get(name)]
    found += [f"online {name}" for name in sorted(set(online) | set(reference_online)) if online.get(name) != reference_online.get(name)]
    return found


if __name__ == "__main__":
    main()
