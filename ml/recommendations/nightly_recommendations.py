"""The nightly recommendation stage: a challenger hybrid trained and judged out of time against
every single method and the champion, the champion decided, then every customer's list and every
SKU's similar products written for the feature store.

A version folder holds the ranker (xgboost JSON), the evaluation and the model card: no customer
id or purchase, so an erasure has nothing to remove there (the lists are in the feature files)."""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import polars as pl

from ml.model_registry import Decision, ModelRegistry, decide_promotion
from ml.nightly_files import scoring_timestamp
from ml.recommendations.business_rules import LIST_SCHEMA, RuleSettings, admissible, final_lists
from ml.recommendations.candidate_pool import FittedMethods, fit_methods
from ml.recommendations.hybrid_ranker import HybridRanker, HybridSettings, candidate_features
from ml.recommendations.inputs import RecommendationInputs
from ml.recommendations.popularity import popular_skus, popularity_candidates
from ml.recommendations.recommendation_evaluation import CHAMPION, HYBRID, RecommenderEvaluation, evaluate_recommenders
from ml.recommendations.recommender_card import recommender_card
from ml.recommendations.similar_products import similar_products

MODEL = "recommender"
RANKER_FILE = "ranker.json"
METRIC = "ndcg_at_k"
SCORING_BATCH = 100_000
"""Customers listed at a time: a batch's candidates and features are about 100 rows per customer."""
BASELINE = "popularity"


@dataclass(frozen=True)
class NightlyRecommendations:
    """What a night produced: the lists, similar products, the version trained and the decision."""

    lists: pl.DataFrame
    similar: pl.DataFrame
    version: str | None
    decision: Decision | None
    scorer: str
    evaluation: RecommenderEvaluation | None
    seconds: dict[str, float] = field(default_factory=dict)
    """Wall time of each phase: judge (train and evaluate), fit, lists, similar products."""


def _register(registry: ModelRegistry, inputs: RecommendationInputs, ranker: HybridRanker,
              evaluation: RecommenderEvaluation, trained_at: datetime) -> tuple[str, Decision]:
    digest = hashlib.sha256(f"{inputs.as_of.isoformat()}|{inputs.purchases.height}|{trained_at}".encode()).hexdigest()
    version, folder = registry.new_version_dir(MODEL, trained_at, digest)
    ranker.save(folder / RANKER_FILE)
    metrics = evaluation.metrics
    champion_metric = metrics.get(CHAMPION, {}).get(METRIC)
    record = {"model": MODEL, "version": version, "trained_at": trained_at.isoformat(), "as_of": inputs.as_of.isoformat(),
              "metric": METRIC, "metrics": metrics, "evaluation_cutoff": evaluation.cutoff,
              "judge_days": evaluation.judge_days, "customers_judged": evaluation.customers,
              "champion_at_training": registry.champion(MODEL), "features": ranker.features}
    registry.write_version(MODEL, version, record)
    decision = decide_promotion(METRIC, 0.0, metrics[HYBRID][METRIC], champion_metric, metrics[BASELINE][METRIC])
    registry.record_decision(MODEL, version, decision)
    registry.write_card(MODEL, version, recommender_card({**record, "decision": asdict(decision)}))
    return version, decision


def _current_ranker(registry: ModelRegistry) -> tuple[HybridRanker | None, str]:
    champion = registry.champion(MODEL)
    if champion is None:
        return None, BASELINE
    return HybridRanker.load(registry.version_dir(MODEL, champion) / RANKER_FILE), champion


def recommend_nightly(inputs: RecommendationInputs, registry: ModelRegistry, scored_on: date,
                      hybrid: HybridSettings = HybridSettings(), rules: RuleSettings = RuleSettings(),
                      trained_at: datetime | None = None) -> NightlyRecommendations:
    """Train, judge and decide; then list for every customer with the champion (popularity while
    there is none) and find every SKU's similar products. The version registered is the hybrid
    trained for the out-of-time judgement (labels a month old): tomorrow it is judged as champion
    on days it never saw, and ranking weights change slowly enough for it to rank today's candidates."""
    trained_at = trained_at or datetime.now(timezone.utc)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(phase: str) -> None:
        nonlocal clock
        seconds[phase] = round(time.perf_counter() - clock, 1)
        clock = time.perf_counter()

    registry.remove_incomplete_versions(MODEL)
    champion, _ = _current_ranker(registry)
    evaluation = evaluate_recommenders(inputs, hybrid=hybrid, rules=rules, champion=champion)
    lap("judge")
    ranker = evaluation.ranker
    version, decision = _register(registry, inputs, ranker, evaluation, trained_at) if ranker else (None, None)
    scorer_model, scorer = _current_ranker(registry)
    fitted = fit_methods(inputs, hybrid.collaborative, max_customers=hybrid.fit_customers)
    popular = popular_skus(inputs)
    cycles = fitted.cycles
    lap("fit")
    lists = pl.concat([pl.DataFrame(schema=LIST_SCHEMA), *(
        _batch_lists(inputs, batch, fitted, scorer_model, popular, cycles, hybrid, rules)
        for batch in inputs.customers.select("customer_id").sort("customer_id").iter_slices(SCORING_BATCH))])
    lap("lists")
    similar = similar_products(inputs, fitted, popular, rules.top_k)
    rows, similar_rows = _as_rows(lists, inputs, scored_on, scorer), _similar_rows(similar, inputs, scored_on, scorer)
    lap("similar products")
    return NightlyRecommendations(rows, similar_rows, version, decision, scorer, evaluation, seconds)


def _batch_lists(inputs: RecommendationInputs, batch: pl.DataFrame, fitted: FittedMethods, ranker: HybridRanker | None,
                 popular: pl.DataFrame, cycles: pl.DataFrame, hybrid: HybridSettings, rules: RuleSettings) -> pl.DataFrame:
    """Final lists of one batch of customers: candidates, the ranker (popularity's order without
    one), then the rules; memory stays bounded by the batch, not the customer base."""
    own = inputs.for_customers(batch["customer_id"])
    if ranker is None:
        ranked = popularity_candidates(inputs, batch["customer_id"], hybrid.candidates_per_method, lists=fitted.popular)
    else:
        # The rules' filters first: the rows they would drop are never featured nor scored.
        pool, _ = candidate_features(inputs, batch["customer_id"], hybrid, fitted=fitted,
                                     keep=lambda pool: admissible(pool, own, cycles, rules))
        ranked = ranker.score(pool)
    return final_lists(ranked.select("customer_id", "sku", "score", "reason"), own, cycles, popular, rules)


def _titles(inputs: RecommendationInputs, column: str) -> pl.DataFrame:
    return inputs.products.select(pl.col("sku").alias(column), pl.col("title").alias(f"{column}_title"))


def _as_rows(lists: pl.DataFrame, inputs: RecommendationInputs, scored_on: date, scorer: str) -> pl.DataFrame:
    """One row per customer: parallel lists of SKUs, titles and reasons in rank order."""
    named = lists.join(_titles(inputs, "sku"), on="sku", how="left").sort("customer_id", "rank")
    return named.group_by("customer_id", maintain_order=True).agg(
        pl.col("sku").alias("recommended_skus"), pl.col("sku_title").alias("recommended_titles"),
        pl.col("reason").alias("recommendation_reasons"),
        pl.col("is_personalized").first().alias("recommendations_personalized"),
    ).with_columns(pl.lit(scoring_timestamp(scored_on)).alias("event_timestamp"), pl.lit(scorer).alias("recommender_version"))


def _similar_rows(similar: pl.DataFrame, inputs: RecommendationInputs, scored_on: date, scorer: str) -> pl.DataFrame:
    named = similar.join(_titles(inputs, "similar_sku"), on="similar_sku", how="left").sort("sku", "rank")
    return named.group_by("sku", maintain_order=True).agg(
        pl.col("similar_sku").alias("similar_skus"), pl.col("similar_sku_title").alias("similar_titles"),
        pl.col("reason").alias("similar_reasons"),
    ).with_columns(pl.lit(scoring_timestamp(scored_on)).alias("event_timestamp"), pl.lit(scorer).alias("recommender_version"))


def ranker_path(registry: ModelRegistry, version: str) -> Path:
    """Where a version's ranker is stored."""
    return registry.version_dir(MODEL, version) / RANKER_FILE
