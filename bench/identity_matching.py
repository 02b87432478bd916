"""Score identity resolution against the demo generator's truth: pairwise precision, recall, F1.

Works on a copy of the warehouse of a CXP_HOME built by `cxp generate` + `cxp run`: builds
`int_identity_nodes` and `int_identity_edges_deterministic` (trusted shared emails and phones)
there with dbt, scores pairs with Splink (nicknames from the dbt seed, as the pipeline does), clusters
the nodes as connected components of (deterministic edges ∪ Splink edges at or above the threshold,
with and without the cluster-level closure edges), and compares the clusters with
`<landing>/_truth/source_records.parquet`.

    uv run python bench/identity_matching.py /tmp/cxpdemo --threshold 0.99
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import duckdb
import polars as pl
import psutil

from dagster_project.identity.customer_ids import find_clusters
from dagster_project.identity.identity_graph import graph_edges
from dagster_project.identity.match_model import MatchingSettings
from dagster_project.identity.match_selection import label_match_decisions, select_match_edges
from dagster_project.identity.pair_scoring import score_record_pairs

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt"
DBT = str(Path(sys.executable).with_name("dbt"))
TRUTH_SOURCES = ("crm_contact", "shopify_order", "sendgrid_recipient", "zendesk_requester")


def build_identity_graph(home: Path, workdir: Path) -> tuple[pl.DataFrame, pl.DataFrame, tuple[tuple[str, str], ...]]:
    """Copy the warehouse, build the identity nodes and deterministic edges in the copy with dbt;
    read both and the nickname seed's (first_name, nickname) rows."""
    warehouse = workdir / "warehouse.duckdb"
    shutil.copyfile(home / "warehouse.duckdb", warehouse)
    env = {**os.environ, "CXP_WAREHOUSE_PATH": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    paths = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
             "--target-path", str(workdir / "dbt-target"), "--log-path", str(workdir / "dbt-logs")]
    for command in (["seed"], ["build", "--select", "+int_identity_edges_deterministic", "--exclude", "staging"]):
        result = subprocess.run([DBT, *command, *paths], env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(f"dbt {' '.join(command)} failed:\n{result.stdout[-3000:]}")
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        nodes = connection.sql("select * from intermediate.int_identity_nodes").pl()
        edges = connection.sql("select record_id_l, record_id_r, match_type from intermediate.int_identity_edges_deterministic").pl()
        nicknames = tuple(connection.sql("select first_name, nickname from seeds.first_name_nicknames").fetchall())
    return nodes, edges, nicknames


def read_truth(landing: Path) -> pl.DataFrame:
    """record_id -> person_id (null for staff test orders), is_shared; recipients keyed as the nodes are."""
    truth = pl.read_parquet(landing / "_truth" / "source_records.parquet").filter(pl.col("source").is_in(TRUTH_SOURCES))
    key = pl.when(pl.col("source") == "sendgrid_recipient").then(pl.col("source_key").str.strip_chars().str.to_lowercase())
    truth = truth.with_columns(key.otherwise(pl.col("source_key")).alias("source_key"))
    households = pl.read_parquet(landing / "_truth" / "people.parquet", columns=["person_id", "household_id"])
    return truth.group_by("source", "source_key").agg(pl.col("person_id").first(), pl.col("is_shared").any()).select(
        (pl.col("source") + ":" + pl.col("source_key")).alias("record_id"), "person_id", "is_shared"
    ).join(households, on="person_id", how="left")


def cluster(record_ids: pl.Series, edges: pl.DataFrame) -> pl.DataFrame:
    """Connected components, as the pipeline forms them: record_id -> cluster_id."""
    return find_clusters(record_ids, edges).rename({"cluster": "cluster_id"})


def pair_count(sizes: pl.Expr) -> pl.Expr:
    return (sizes * (sizes - 1) // 2).sum()


def pairwise_scores(clusters: pl.DataFrame, truth: pl.DataFrame) -> dict[str, float]:
    """Pairwise precision/recall/F1 over nodes with a known person, and false merges by cause."""
    labelled = clusters.join(truth.filter(pl.col("person_id").is_not_null()), on="record_id")
    predicted = labelled.group_by("cluster_id").len().select(pair_count(pl.col("len"))).item()
    actual = labelled.group_by("person_id").len().select(pair_count(pl.col("len"))).item()
    correct = labelled.group_by("cluster_id", "person_id").len().select(pair_count(pl.col("len"))).item()
    merged = labelled.group_by("cluster_id").agg(
        pl.len().alias("size"), pl.col("person_id").value_counts().struct.field("count").alias("per_person"),
        pl.col("is_shared").any().alias("has_shared"),
        ((pl.col("household_id").n_unique() == 1) & pl.col("household_id").is_not_null().all()).alias("one_household"),
    ).filter(pl.col("per_person").list.len() > 1).with_columns(
        (pl.col("size") * (pl.col("size") - 1) // 2
         - (pl.col("per_person") * (pl.col("per_person") - 1) // 2).list.sum()).alias("false_pairs")
    )
    precision = correct / predicted if predicted else 1.0
    recall = correct / actual if actual else 1.0
    return {
        "precision": precision, "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "clusters": clusters["cluster_id"].n_unique(), "merged_clusters": merged.height,
        "false_pairs": predicted - correct, "missed_pairs": actual - correct,
        "false_pairs_with_shared_identifier": merged.filter(pl.col("has_shared"))["false_pairs"].sum(),
        "false_pairs_within_household": merged.filter(pl.col("one_household"))["false_pairs"].sum(),
    }


def recall_ceilings(nodes: pl.DataFrame, truth: pl.DataFrame) -> dict[str, float]:
    """Recall of oracles that know the truth but can only link records sharing some evidence.

    `any_attribute`: every record with at least one matching attribute joins its person (an
    invalid address alone cannot); `no_name_only`: two records of a person are linked only if they
    share something besides the name (email, phone, birthdate, postcode or street).
    """
    labelled = nodes.join(truth.filter(pl.col("person_id").is_not_null()), on="record_id")
    attributes = ("first_name", "last_name", "email", "phone_e164", "street", "postcode", "birthdate")
    with_evidence = labelled.filter(pl.any_horizontal(pl.col(attributes).is_not_null()))
    star = with_evidence.group_by("person_id").agg(pl.col("record_id"))
    edges = [star.select(pl.col("record_id").list.first().alias("record_id_l"), "record_id")
             .explode("record_id").rename({"record_id": "record_id_r"})]
    any_attribute = pairwise_scores(cluster(labelled["record_id"], edges[0]), truth)["recall"]
    edges = []
    for column in ("email", "phone_e164", "birthdate", "postcode", "street"):
        grouped = labelled.filter(pl.col(column).is_not_null()).group_by("person_id", column).agg(pl.col("record_id"))
        edges.append(grouped.select(pl.col("record_id").list.first().alias("record_id_l"), "record_id")
                     .explode("record_id").rename({"record_id": "record_id_r"}))
    no_name_only = pairwise_scores(cluster(labelled["record_id"], pl.concat(edges)), truth)["recall"]
    return {"any_attribute": any_attribute, "no_name_only": no_name_only}


def measure(function, *args, **kwargs):
    """Result, wall seconds, and peak resident memory of this process during the call and before it (bytes)."""
    process, done = psutil.Process(), threading.Event()
    baseline = process.memory_info().rss
    peak = [baseline]

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], process.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    result = function(*args, **kwargs)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return result, seconds, max(peak[0], process.memory_info().rss), baseline


def report(label: str, scores: dict[str, float]) -> None:
    print(f"{label:<32} precision {scores['precision']:.4f}  recall {scores['recall']:.4f}  F1 {scores['f1']:.4f}  "
          f"clusters {scores['clusters']:,}  false pairs {scores['false_pairs']:,} "
          f"(with a shared identifier {scores['false_pairs_with_shared_identifier']:,}, "
          f"within one household {scores['false_pairs_within_household']:,})  "
          f"missed pairs {scores['missed_pairs']:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("home", type=Path, help="CXP_HOME holding warehouse.duckdb and landing/")
    parser.add_argument("--landing", type=Path, help="landing folder (default: <home>/landing)")
    parser.add_argument("--threshold", type=float, nargs="+", default=[MatchingSettings().match_threshold])
    parser.add_argument("--pairs-out", type=Path, help="write the scored pairs here (parquet)")
    parser.add_argument("--memory-limit", help="DuckDB memory_limit for scoring, e.g. 3GB (default: DuckDB's, 80%% of RAM)")
    args = parser.parse_args()
    landing = args.landing or args.home / "landing"
    print(f"cpus={os.cpu_count()} memory={psutil.virtual_memory().total / 2**30:.0f} GiB")
    with tempfile.TemporaryDirectory(prefix="cxp-identity-bench-") as workdir:
        started = time.perf_counter()
        nodes, deterministic, seed_nicknames = build_identity_graph(args.home, Path(workdir))
        print(f"nodes {nodes.height:,} built in {time.perf_counter() - started:.1f} s: "
              + ", ".join(f"{s} {n:,}" for s, n in nodes.group_by("source").len().sort("source").iter_rows()))
    truth = read_truth(landing)
    known = nodes.join(truth, on="record_id", how="left")
    in_truth = pl.col("is_shared").is_not_null()
    print(f"nodes not in truth: {known.filter(~in_truth).height:,}; "
          f"in truth without a person (staff test orders): {known.filter(in_truth & pl.col('person_id').is_null()).height:,}")

    settings = MatchingSettings(nicknames=seed_nicknames)
    print(f"nicknames: dbt seed, {len(settings.nicknames)} rows")
    connection = duckdb.connect()
    if args.memory_limit:
        connection.execute(f"set memory_limit = '{args.memory_limit}'")
    pairs, seconds, peak, baseline = measure(score_record_pairs, nodes, settings, connection)
    print(f"scoring: {pairs.height:,} pairs at p >= {settings.score_floor} in {seconds:.1f} s, "
          f"peak RSS {peak / 2**20:,.0f} MiB (before scoring {baseline / 2**20:,.0f} MiB)")
    if args.pairs_out:
        pairs.write_parquet(args.pairs_out)

    report("deterministic rules only", pairwise_scores(cluster(nodes["record_id"], deterministic.drop("match_type")), truth))
    for threshold in args.threshold:
        at_threshold = replace(settings, match_threshold=threshold)
        probabilistic = select_match_edges(pairs, at_threshold)
        scores = pairwise_scores(cluster(nodes["record_id"], pl.concat([deterministic.drop("match_type"), probabilistic])), truth)
        report(f"deterministic + Splink p>={threshold}", scores)
        # As the pipeline selects them: with the cluster-level closure edges, and without the
        # shared phones the household guard overrules.
        labelled = label_match_decisions(pairs, at_threshold, nodes)
        scores = pairwise_scores(cluster(nodes["record_id"], graph_edges(deterministic, labelled).drop("kind")), truth)
        report("  + closure edges, guarded phones", scores)
    ceilings = recall_ceilings(nodes, truth)
    print(f"recall ceilings: records with any attribute linked {ceilings['any_attribute']:.4f}; "
          f"without name-only links {ceilings['no_name_only']:.4f}")


if __name__ == "__main__":
    main()
