"""What erasure requests cost a nightly run: the privacy/erasures step (finding the people, deleting
them everywhere, rewriting the warehouse file) and the suppression filter on the next loads.

For a landing directory made by `cxp generate`, its last two days are held back; a fresh home runs
`cxp run` over the rest. The second-to-last day is then delivered with --requests erasure requests
(the people of the generator's truth with the most records) and run as a nightly; the last day
follows, loaded with those people on the suppression list. The Dagster event log gives each step's
duration.

    uv run python bench/erasure.py /tmp/cxp100k/landing --requests 5
"""

import argparse
import csv
import os
import shutil
import sys
import tempfile
from pathlib import Path

import polars as pl
import psutil
from identity_resolution import PassResult, TreeSampler, read_run  # bench/ is the script's directory, hence on sys.path
from ingest_and_stage import run_measured

CXP = str(Path(sys.executable).with_name("cxp"))


def measured_run(arguments: list[str], env: dict[str, str]) -> PassResult:
    sampler = TreeSampler()
    sampler.start()
    try:
        wall, peak = run_measured([CXP, "run", *arguments], env)
        result = PassResult(wall_s=wall, peak_bytes=peak)
        read_run(Path(env["DAGSTER_HOME"]), result, sampler)
    finally:
        sampler.stop()
    return result


def report(label: str, result: PassResult) -> None:
    steps = dict((step, seconds) for step, seconds, _ in result.steps)
    raw = sum(seconds for step, seconds in steps.items() if step.startswith("raw__"))
    print(f"  {label}: wall {result.wall_s:6.1f} s, peak {result.peak_bytes / 2**30:5.2f} GiB; raw loads {raw:5.1f} s; "
          f"privacy/erasures {steps.get('privacy__erasures', 0.0):5.1f} s", flush=True)
    erasures = result.metadata.get("privacy/erasures", {})
    if erasures:
        print(f"    requests {erasures.get('requests_processed')}, rows deleted {erasures.get('rows_deleted')}, "
              f"warehouse rewritten {erasures.get('warehouse_rewritten', 'no')}")
    for key, metadata in sorted(result.metadata.items()):
        if key.startswith("raw/") and metadata.get("rows_suppressed"):
            print(f"    {key}: {metadata['rows_suppressed']} rows suppressed")


def most_recorded_people(landing: Path, count: int) -> list[str]:
    """Emails of the people with the most source records, who did not ask to be erased already."""
    people = pl.read_parquet(landing / "_truth" / "people.parquet")
    records = pl.read_parquet(landing / "_truth" / "source_records.parquet").group_by("person_id").len("records")
    chosen = (people.join(records, on="person_id").filter(~pl.col("erasure_requested") & pl.col("email").is_not_null())
              .sort(["records", "person_id"], descending=[True, False]).head(count))
    return chosen["email"].to_list()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("landing", type=Path, help="A landing directory written by `cxp generate`.")
    parser.add_argument("--requests", type=int, default=5, help="Erasure requests delivered on the measured night.")
    parser.add_argument("--workdir", type=Path, help="Where the fresh home goes [default: the system temp dir].")
    args = parser.parse_args()
    print(f"cpus={os.cpu_count()} memory={psutil.virtual_memory().total / 2**30:.0f} GiB python={sys.version.split()[0]}")
    home = Path(tempfile.mkdtemp(prefix="cxp-erasure-bench-", dir=args.workdir))
    landing = home / "landing"
    shutil.copytree(args.landing, landing)
    days = sorted({path.stem.rsplit("_", 1)[1] for path in landing.glob("*/*_????-??-??.*")})
    night, last = days[-2], days[-1]
    held = home / "held"
    for day in (night, last):
        for path in landing.glob(f"*/*_{day}.*"):
            (held / path.parent.name).mkdir(parents=True, exist_ok=True)
            path.rename(held / path.parent.name / path.name)
    env = {name: value for name, value in os.environ.items() if not name.startswith(("CXP_", "DBT_")) and name != "DAGSTER_HOME"}
    env |= {"CXP_HOME": str(home), "CXP_LANDING": str(landing), "DAGSTER_HOME": str(home / "dagster"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    print(f"{args.landing}: first load up to {days[-3]}, then {night} with {args.requests} request(s), then {last} (home {home})",
          flush=True)
    try:
        report("first load", measured_run([], env))
        for day in (night, last):
            for path in held.glob(f"*/*_{day}.*"):
                path.rename(landing / path.parent.name / path.name)
            if day == night:
                with open(landing / "privacy" / f"erasure_requests_{night}.csv", "a", newline="", encoding="utf-8") as file:
                    for number, email in enumerate(most_recorded_people(landing, args.requests)):
                        csv.writer(file).writerow([f"ER-bench-{number}", email, f"{night}T08:00:00Z"])
            report(f"nightly {day}" + (" with the requests" if day == night else ", the people suppressed"), measured_run(["--date", day], env))
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
