"""Time demo generation and ingestion + staging at several sizes; print rows/s and peak memory.

Each phase runs as its own `cxp` process (as a user would run it) in a fresh CXP_HOME,
and its peak resident memory is sampled across the whole process tree (dbt runs in a
subprocess of Dagster's run).

    uv run python bench/ingest_and_stage.py --customers 10000 100000 --days 365
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import psutil

CXP = str(Path(sys.executable).with_name("cxp"))


def run_measured(command: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes, summed over the process tree) of one command."""
    started = time.perf_counter()
    process = psutil.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        try:
            tree = [process, *process.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.1)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{process.stderr.read().decode()[-3000:]}")
    return seconds, peak


def count_rows(warehouse: Path, schema: str) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        tables = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_name NOT IN ('load_ledger')",
            [schema],
        ).fetchall()
        return sum(connection.execute(f'SELECT count(*) FROM "{schema}"."{name}"').fetchone()[0] for (name,) in tables)


def bench(customers: int, days: int, seed: int, workdir: Path) -> dict[str, float]:
    home = workdir / f"cxp-{customers}"
    env = {**os.environ, "CXP_HOME": str(home), "CXP_LANDING": str(home / "landing")}
    gen_s, gen_peak = run_measured(
        [CXP, "generate", "--customers", str(customers), "--days", str(days), "--seed", str(seed), "--end-date", "2026-06-30"], env
    )
    files = [p for p in (home / "landing").rglob("*") if p.is_file() and "_truth" not in p.parts]
    run_s, run_peak = run_measured([CXP, "run"], env)
    raw_rows = count_rows(home / "warehouse.duckdb", "raw")
    staged_rows = count_rows(home / "warehouse.duckdb", "staging")
    return {
        "customers": customers, "days": days, "files": len(files),
        "landing_mb": sum(p.stat().st_size for p in files) / 1e6,
        "generate_s": gen_s, "generate_peak_mb": gen_peak / 1e6, "generated_rows_per_s": raw_rows / gen_s,
        "ingest_stage_s": run_s, "ingest_stage_peak_mb": run_peak / 1e6,
        "raw_rows": raw_rows, "staged_rows": staged_rows, "ingested_rows_per_s": raw_rows / run_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(f"cpus={os.cpu_count()} memory={psutil.virtual_memory().total / 2**30:.0f} GiB python={sys.version.split()[0]}")
    header = f"{'customers':>9} {'days':>4} {'files':>5} {'landing MB':>10} | {'generate s':>10} {'peak MB':>8} | {'ingest+stage s':>14} {'peak MB':>8} {'raw rows':>11} {'rows/s':>9} {'staged rows':>11}"
    print(header)
    with tempfile.TemporaryDirectory(prefix="cxp-bench-") as workdir:
        for customers in args.customers:
            r = bench(customers, args.days, args.seed, Path(workdir))
            print(
                f"{r['customers']:>9,} {r['days']:>4} {r['files']:>5} {r['landing_mb']:>10.1f} | {r['generate_s']:>10.1f} "
                f"{r['generate_peak_mb']:>8.0f} | {r['ingest_stage_s']:>14.1f} {r['ingest_stage_peak_mb']:>8.0f} "
                f"{r['raw_rows']:>11,} {r['ingested_rows_per_s']:>9,.0f} {r['staged_rows']:>11,}",
                flush=True,
            )


if __name__ == "__main__":
    main()
