"""`cxp eval recommendations`: every method, the hybrid and the champion side by side, out of time
on the warehouse and, on generated data, against what people really bought after the last export."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from ml.model_registry import ModelRegistry
from ml.recommendations.business_rules import RuleSettings, sellable_skus
from ml.recommendations.hybrid_ranker import HybridRanker, HybridSettings
from ml.recommendations.inputs import RecommendationInputs
from ml.recommendations.nightly_recommendations import BASELINE, METRIC, MODEL, RANKER_FILE
from ml.recommendations.ranking_metrics import ranking_metrics
from ml.recommendations.recommendation_evaluation import CHAMPION, HYBRID, evaluate_recommenders, judged_lists
from ml.recommendations.recommender_card import metrics_table

TRUTH_DAYS = 30


def champion_ranker(registry: ModelRegistry) -> tuple[str | None, HybridRanker | None]:
    """The champion version and its ranker, if there is one."""
    version = registry.champion(MODEL)
    return version, HybridRanker.load(registry.version_dir(MODEL, version) / RANKER_FILE) if version else None


def future_relevant(future: pl.DataFrame, persons: pl.DataFrame, days: int = TRUTH_DAYS) -> pl.DataFrame:
    """customer_id, sku bought (not cancelled) in the first `days` after the last export, from
    `_truth/future_purchases.parquet` and the customer -> person map."""
    bought = future.filter((pl.col("days_after_window") <= days) & ~pl.col("is_cancelled") & pl.col("sku").is_not_null())
    return bought.join(persons, on="person_id", how="inner").select("customer_id", "sku").unique()


def evaluate_against_truth(inputs: RecommendationInputs, relevant: pl.DataFrame, champion: HybridRanker | None,
                           hybrid: HybridSettings = HybridSettings()) -> dict[str, dict[str, float]]:
    """Each method's, a hybrid's (trained on all the data) and the champion's lists for the
    customers who bought after the last export, judged on what they bought."""
    customers = relevant["customer_id"].unique().sort()
    lists, _ = judged_lists(inputs, customers, hybrid, RuleSettings(), champion)
    popularity = inputs.kept_purchases().group_by("sku").len("interactions")
    catalog = max(sellable_skus(inputs.products).height, 1)
    return {name: ranking_metrics(frame.select("customer_id", "sku", "rank"), relevant, k=10, catalog_skus=catalog,
                                  item_popularity=popularity) for name, frame in lists.items()}


def verdict(metrics: dict[str, dict[str, float]]) -> str:
    """How the hybrid (or the champion) compares with popularity and the best single method."""
    singles = {name: values[METRIC] for name, values in metrics.items() if name not in (HYBRID, CHAMPION)}
    best = max(singles, key=lambda name: singles[name])
    lines = []
    for name in (HYBRID, CHAMPION):
        if name in metrics and singles[BASELINE] > 0 and singles[best] > 0:
            value = metrics[name][METRIC]
            lines.append(f"{name}: NDCG@10 {value:.4f} = {value / singles[BASELINE]:.2f}x popularity, "
                         f"{value / singles[best]:.2f}x the best single method ({best})")
    return "\n".join(lines) or "no hybrid could be trained: too few buyers in the label window"


def served_coverage(served: pl.DataFrame, products: pl.DataFrame) -> float:
    """The share of the sellable catalog in anyone's served list (`recommended_skus` per customer)."""
    listed = served.select(pl.col("recommended_skus").explode().alias("sku")).drop_nulls().unique()
    sellable = sellable_skus(products)
    return listed.join(sellable, on="sku", how="semi").height / max(sellable.height, 1)


def render_report(inputs: RecommendationInputs, registry: ModelRegistry, relevant: pl.DataFrame | None,
                  served: pl.DataFrame | None = None) -> str:
    """The report's text: out of time on the warehouse, then against truth when given, then the
    catalog coverage of the lists served last night (every customer's, not only the judged ones)."""
    version, champion = champion_ranker(registry)
    evaluation = evaluate_recommenders(inputs, champion=champion)
    parts = [f"Recommendations, out of time: trained as of {evaluation.cutoff}, judged on the next {evaluation.judge_days} days' "
             f"purchases of {evaluation.customers:,} customers (lists after the business rules; re-buys count). "
             f"Champion: {version or 'none (popularity lists)'}.", "", metrics_table(evaluation.metrics), "",
             verdict(evaluation.metrics)]
    if relevant is not None:
        truth = evaluate_against_truth(inputs, relevant, champion)
        end = inputs.as_of - timedelta(seconds=1)
        parts += ["", f"Against truth: lists as of {end:%Y-%m-%d}, judged on what {relevant['customer_id'].n_unique():,} "
                      f"customers bought in the {TRUTH_DAYS} days after the last export.", "", metrics_table(truth), "",
                  verdict(truth)]
    if served is not None and served.height:
        parts += ["", f"Served lists ({served.height:,} customers, version {served['recommender_version'][0]}): "
                      f"catalog coverage {served_coverage(served, inputs.products):.1%} of the sellable SKUs."]
    return "\n".join(parts)
