"""The nightly model job at scale: three challengers with their baselines, promotion, and scoring
every customer with reasons, then the scores into the online store.

Two kinds of data:

- `--landing DIR`: exports made by `cxp generate`. The pipeline loads them first (not timed here,
  see bench/quality_gates.py), then the model job runs with the production label windows, and the
  out-of-time evaluation is printed as `cxp eval models` prints it: champion, challenger, baseline
  and the oracle from the generator's latent truth.
- `--synthetic N`: N customers of synthetic feature snapshots shaped like the dbt models (see
  bench/feature_store.py) and synthetic orders whose rate follows one of the features, for time and
  memory only. Label windows are shortened to fit 150 days, and each cutoff keeps every customer:
  3-4 cutoffs × N rows per training set, as many as 12 monthly cutoffs × 250k rows in production.

The model job runs in a child process, so its peak memory is its own.

    uv run python bench/nightly_models.py --landing /tmp/ml100k/landing
    uv run python bench/nightly_models.py --synthetic 100000 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import psutil

SYNTHETIC_DAYS = 150
SYNTHETIC_SETTINGS = """
labels:
  churn: {horizon_days: 30}
  propensity: {horizon_days: 14}
  clv: {horizon_days: 30}
training: {min_history_days: 30, max_rows_per_cutoff: 100000000}
"""


def run_model_job() -> None:
    """(child process) The `cxp_models` job in-process; prints step times and peak memory as JSON."""
    import dagster as dg

    from dagster_project.defs.platform import build_definitions

    job = build_definitions().resolve_job_def("cxp_models")
    started = time.perf_counter()
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
        total = time.perf_counter() - started
        starts, steps = {}, {}
        for entry in instance.all_logs(result.run_id):
            event = entry.dagster_event
            if event is None:
                continue
            if event.event_type_value == "STEP_START":
                starts[event.step_key] = entry.timestamp
            elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
                steps[event.step_key] = [round(entry.timestamp - starts[event.step_key], 1), event.event_type_value == "STEP_SUCCESS"]
    print(json.dumps({"success": result.success, "seconds": round(total, 1), "steps": steps,
                      "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}), flush=True)


def time_model_job(environment: dict[str, str]) -> dict:
    child = subprocess.run([sys.executable, __file__, "--model-job"], env=environment, capture_output=True, text=True)
    lines = [line for line in child.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"model job failed:\n{child.stdout[-3000:]}\n{child.stderr[-3000:]}")
    return json.loads(lines[-1])


def print_job(figures: dict, customers: str) -> None:
    print(f"  model job ({customers}): {figures['seconds']:.0f} s, peak rss {figures['peak_rss_gib']:.1f} GiB, "
          f"{'succeeded' if figures['success'] else 'FAILED'}", flush=True)
    for step, (seconds, ok) in figures["steps"].items():
        print(f"    {step:<28} {seconds:7.1f} s{'' if ok else '  FAILED'}", flush=True)


def bench_landing(landing: Path, home: Path) -> None:
    # CXP_QUALITY_THRESHOLDS and CXP_MODEL_SETTINGS of the caller's environment apply.
    environment = {**os.environ, "CXP_HOME": str(home), "CXP_LANDING": str(landing), "DAGSTER_HOME": str(home / "dagster")}
    loaded = home / ".bench_pipeline_loaded"
    if not loaded.exists():
        home.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        subprocess.run([str(Path(sys.executable).with_name("cxp")), "run"], env=environment, check=True,
                       stdout=(home / "pipeline.log").open("w"))
        loaded.write_text(f"{time.perf_counter() - started:.0f} s\n")
        print(f"  pipeline load (not part of the model job): {time.perf_counter() - started:.0f} s", flush=True)
    versions_before = len(list((home / "models").glob("*/*/version.json")))
    print_job(time_model_job(environment), f"exports in {landing}, {versions_before} model versions before")
    subprocess.run([str(Path(sys.executable).with_name("cxp")), "eval", "models"], env=environment, check=True)


def write_synthetic_orders(warehouse: Path, customers: int, first_day, days: int) -> int:
    """Orders at a daily rate that grows with the customer's first lifetime-orders value (so the
    features carry signal and training stops early as it would on real data), 5% cancelled."""
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("CREATE SCHEMA IF NOT EXISTS intermediate; CREATE SCHEMA IF NOT EXISTS marts")
        connection.execute("""
            CREATE OR REPLACE TABLE marts.fct_orders AS
            WITH rates AS (
                SELECT CAST(substr(customer_id, 5) AS BIGINT) AS c, 0.001 + 0.02 * coalesce(orders_lifetime, 0) / 11.0 AS rate
                FROM features.customer_purchase_features
                QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY snapshot_date) = 1
            )
            SELECT row_number() OVER () AS order_id, 'cus_' || lpad(CAST(c AS VARCHAR), 9, '0') AS customer_id,
                   CAST(CAST(? AS DATE) + CAST(d AS INTEGER) AS TIMESTAMP) + to_seconds(hash(c, d, 's') % 86400) AS created_at,
                   hash(c, d, 'x') % 100 < 5 AS is_cancelled, round(20 + (hash(c, d, 'v') % 20000) / 100.0, 2) AS net_amount_usd
            FROM rates, range(?) t(d)
            WHERE hash(c, d, 'o') % 1000000 < 1000000 * rate
        """, [first_day, days])
        connection.execute("""
            CREATE OR REPLACE TABLE intermediate.int_customer_order_states AS
            SELECT order_id, customer_id, CAST(created_at AS DATE) AS placed_on, CAST(created_at AS DATE) AS known_on,
                   CASE WHEN is_cancelled THEN CAST(created_at AS DATE) + 2 END AS cancelled_known_on
            FROM marts.fct_orders
        """)
        # Random snapshot values can put the first order after the last; BG/NBD needs them in order.
        connection.execute("""
            UPDATE features.customer_purchase_features
            SET first_order_at = least(first_order_at, last_order_at), last_order_at = greatest(first_order_at, last_order_at)
        """)
        return connection.execute("SELECT count(*) FROM marts.fct_orders").fetchall()[0][0]


def bench_synthetic(customers: int, workdir: Path) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from feature_store import export, write_feature_tables

    home = workdir / f"models-{customers}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    (home / "models.yml").write_text(SYNTHETIC_SETTINGS)
    environment = {**{k: v for k, v in os.environ.items() if not k.startswith("CXP_")},
                   "CXP_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"), "CXP_MODEL_SETTINGS": str(home / "models.yml")}
    os.environ.update(environment)
    from dagster_project.settings import load_settings
    from feature_repo.definitions import feature_store_objects, open_feature_store

    settings = load_settings()
    settings.ensure_directories()
    settings.export_environment()
    first_day = datetime.now(timezone.utc).date() - timedelta(days=SYNTHETIC_DAYS + 1)
    started = time.perf_counter()
    rows = write_feature_tables(settings.warehouse_path, customers, first_day, SYNTHETIC_DAYS)
    orders = write_synthetic_orders(settings.warehouse_path, customers, first_day, SYNTHETIC_DAYS)
    export(settings)
    open_feature_store(settings).apply(feature_store_objects(settings))
    print(f"{customers:,} synthetic customers, {SYNTHETIC_DAYS} days: {sum(rows.values()):,} feature rows, {orders:,} orders "
          f"(set up in {time.perf_counter() - started:.0f} s)", flush=True)
    print_job(time_model_job(environment), f"{customers:,} customers")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landing", type=Path, help="Exports made by `cxp generate`.")
    parser.add_argument("--home", type=Path, help="CXP_HOME for --landing [default: <landing>/../home].")
    parser.add_argument("--synthetic", type=int, nargs="*", default=[], help="Customers of synthetic data, one run each.")
    parser.add_argument("--workdir", type=Path, help="Where synthetic homes go [default: the system temp dir].")
    parser.add_argument("--model-job", action="store_true", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.model_job:
        run_model_job()
        return
    print(f"cpus={os.cpu_count()} memory={psutil.virtual_memory().total / 2**30:.0f} GiB python={sys.version.split()[0]}", flush=True)
    if args.landing:
        bench_landing(args.landing.resolve(), (args.home or args.landing.resolve().parent / "home").resolve())
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cxp-model-bench-"))
    for customers in args.synthetic:
        bench_synthetic(customers, workdir)


if __name__ == "__main__":
    main()
