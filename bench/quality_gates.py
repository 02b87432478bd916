"""What the quality gates cost: the whole pipeline (`cxp run`) in a fresh home, then one nightly day.

For each landing directory (made by `cxp generate`), a fresh CXP_HOME runs `cxp run` over every
extract date (the first load: every partition is validated), then `cxp run --date <last day>` (a
nightly run: one partition). The Dagster event log gives each step's duration; the Great
Expectations check steps (raw exports, customer sizes, order reconciliation, feature tables) are set against the
rest of the run. dbt tests are not counted: they ran before the gates existed.

    uv run python bench/quality_gates.py /tmp/cxp100k/landing
"""

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import psutil
from identity_resolution import PassResult, TreeSampler, read_run  # bench/ is the script's directory, hence on sys.path
from ingest_and_stage import run_measured

CXP = str(Path(sys.executable).with_name("cxp"))
GATE_STEPS = ("raw_exports_quality", "identity_customer_sizes", "marts_order_reconciliation", "feature_tables_quality")


def measured_run(arguments: list[str], env: dict[str, str], sampler: TreeSampler) -> PassResult:
    wall, peak = run_measured([CXP, "run", *arguments], env)
    result = PassResult(wall_s=wall, peak_bytes=peak)
    read_run(Path(env["DAGSTER_HOME"]), result, sampler)
    return result


def report(label: str, result: PassResult) -> None:
    gates = [(step, seconds) for step, seconds, _ in result.steps if step in GATE_STEPS]
    gate_s = sum(seconds for _, seconds in gates)
    rest = result.wall_s - gate_s
    print(f"  {label}: wall {result.wall_s:7.1f} s   peak {result.peak_bytes / 2**30:5.2f} GiB   "
          f"quality gates {gate_s:6.1f} s = {100 * gate_s / rest:4.1f}% on top of the {rest:.1f} s without them", flush=True)
    for step, seconds in gates:
        print(f"    {step:<32} {seconds:7.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("landings", type=Path, nargs="+", help="Landing directories written by `cxp generate`.")
    parser.add_argument("--workdir", type=Path, help="Where the fresh homes go [default: the system temp dir].")
    args = parser.parse_args()
    print(f"cpus={os.cpu_count()} memory={psutil.virtual_memory().total / 2**30:.0f} GiB python={sys.version.split()[0]}")
    for landing in args.landings:
        home = Path(tempfile.mkdtemp(prefix="cxp-quality-bench-", dir=args.workdir))
        env = {name: value for name, value in os.environ.items() if not name.startswith(("CXP_", "DBT_")) and name != "DAGSTER_HOME"}
        env |= {"CXP_HOME": str(home), "CXP_LANDING": str(landing.resolve()), "DAGSTER_HOME": str(home / "dagster"),
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        last_day = max(path.stem.rsplit("_", 1)[1] for path in (landing / "ecommerce").glob("orders_*.csv"))
        print(f"{landing} (fresh home {home})", flush=True)
        try:
            for label, arguments in (("first load, every partition", []), (f"nightly run for {last_day}", ["--date", last_day])):
                sampler = TreeSampler()
                sampler.start()
                try:
                    result = measured_run(arguments, env, sampler)
                finally:
                    sampler.stop()
                report(label, result)
        finally:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
