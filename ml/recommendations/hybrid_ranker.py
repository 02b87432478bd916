"""The hybrid: xgboost learning-to-rank over every method's candidates. It learns, from the last
`label_days` before the cutoff, which method to trust for whom (a due consumable over a popular
item, a complement after a recent purchase, content for a customer ALS barely knows)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl
import xgboost as xgb

from ml.recommendations.candidate_pool import METHODS, FittedMethods, fit_methods, method_candidates, pooled
from ml.recommendations.collaborative_filtering import CollaborativeSettings
from ml.recommendations.inputs import RecommendationInputs
from ml.recommendations.ranking_features import add_ranking_features, feature_columns


@dataclass(frozen=True)
class HybridSettings:
    """How the hybrid is trained: candidates per method, the label window, how many of the
    window's buyers it learns from, and the boosted trees."""

    candidates_per_method: int = 20
    """Scoring cost is linear in candidates (about 50 per customer at 20); at 100k simulated customers
    30 per method gained 0.0015 NDCG@10 (0.1260 against 0.1245, with 150 trees) for 45% more rows."""
    label_days: int = 30
    training_customers: int = 8_000
    """Buyers drawn from one label window."""
    training_windows: int = 3
    """At most this many windows, the latest first; more are drawn only while fewer than
    `enough_buyers` buyers have been drawn: a small shop needs all three (at 10,000 simulated people
    two gave 0.1045 NDCG@10 against 0.1077), a large one gains nothing from the third (0.1249 with two
    at 100,000, 0.1245 with three) and it costs a sixth of the night at a million."""
    enough_buyers: int = 16_000
    fit_customers: int = 100_000
    """ALS learns from at most this many customers; the nightly lists fold every other customer in.
    At a million simulated customers, 100k judged the same as 200k (hybrid NDCG@10 0.1244 both; ALS
    alone 0.0692 against 0.0695) in three quarters of the time."""
    trees: int = 80
    """Prediction is linear in trees and is the largest part of scoring a million customers; 150 trees at a
    learning rate of 0.1 ranked no better than these 80 at 0.15 (within 0.001 NDCG@10 at 100k)."""
    max_depth: int = 5
    learning_rate: float = 0.15
    seed: int = 7
    collaborative: CollaborativeSettings = CollaborativeSettings()


def candidate_features(inputs: RecommendationInputs, customer_ids: pl.Series, settings: HybridSettings,
                       methods: tuple[str, ...] = METHODS, fitted: FittedMethods | None = None,
                       keep: Callable[[pl.DataFrame], pl.DataFrame] | None = None
                       ) -> tuple[pl.DataFrame, dict[str, pl.DataFrame]]:
    """The pooled, featured candidates of `customer_ids`, and each method's own candidates
    (`fitted`: the methods already fitted on these inputs, if at hand; `keep`: a filter of the pool
    applied before the features, such as the business rules' `admissible`, so the rows it drops
    are never featured)."""
    fitted = fitted or fit_methods(inputs, settings.collaborative, customer_ids, settings.fit_customers)
    candidates = method_candidates(inputs, fitted, customer_ids, settings.candidates_per_method)
    pool = pooled({name: candidates[name] for name in methods})
    return add_ranking_features(pool if keep is None else keep(pool), inputs, fitted.cycles), candidates


def _labelled_pool(inputs: RecommendationInputs, window: int, settings: HybridSettings) -> tuple[pl.DataFrame, int]:
    """The featured candidates of one label window's buyers, `label` 1 for what they bought in it;
    only customers with a bought item among their candidates (the others teach no ranking). And how
    many buyers were drawn."""
    end = inputs.as_of - timedelta(days=settings.label_days * window)
    cutoff = end - timedelta(days=settings.label_days)
    bought = inputs.kept_purchases().filter(pl.col("ordered_at").is_between(cutoff, end, closed="left")).select(
        "customer_id", "sku").unique().with_columns(pl.lit(1).alias("label"))
    buyers = bought["customer_id"].unique().sort()
    if buyers.is_empty():
        return pl.DataFrame(), 0
    if buyers.len() > settings.training_customers:
        buyers = buyers.sample(settings.training_customers, seed=settings.seed + window).sort()
    pool, _ = candidate_features(inputs.before(cutoff), buyers, settings)
    pool = pool.join(bought, on=["customer_id", "sku"], how="left").with_columns(pl.col("label").fill_null(0))
    return pool.filter(pl.col("label").max().over("customer_id") == 1).with_columns(
        (pl.col("customer_id") + f"@{window}").alias("query")).sort("query", "sku"), buyers.len()


class HybridRanker:
    """A trained ranker: scores pooled candidates, higher first."""

    def __init__(self, booster: xgb.Booster, features: list[str]) -> None:
        self.booster, self.features = booster, features

    @classmethod
    def train(cls, inputs: RecommendationInputs, settings: HybridSettings = HybridSettings()) -> HybridRanker | None:
        """Fit on candidates generated `label_days` before the cutoff (and before each of up to
        `training_windows` - 1 windows before that, while fewer than `enough_buyers` were drawn),
        labelled by what each customer bought in the window's days; None when the windows have too
        few buyers to learn from."""
        groups, drawn = [], 0
        for window in range(settings.training_windows):
            if drawn >= settings.enough_buyers:
                break
            group, buyers = _labelled_pool(inputs, window, settings)
            groups.append(group)
            drawn += buyers
        pool = pl.concat([group for group in groups if group.height], how="diagonal_relaxed").sort("query", "sku") if any(
            group.height for group in groups) else pl.DataFrame()
        if pool.is_empty() or pool["query"].n_unique() < 20:
            return None
        features = feature_columns(METHODS)
        ranker = xgb.XGBRanker(objective="rank:ndcg", n_estimators=settings.trees, max_depth=settings.max_depth,
                               learning_rate=settings.learning_rate, random_state=settings.seed, n_jobs=2,
                               tree_method="hist", lambdarank_pair_method="topk", lambdarank_num_pair_per_sample=10)
        ranker.fit(pool.select(features).to_numpy().astype(np.float32), pool["label"].to_numpy(),
                   qid=pool["query"].rank("dense").to_numpy())
        booster = ranker.get_booster()
        booster.feature_names = features
        return cls(booster, features)

    def score(self, pool: pl.DataFrame) -> pl.DataFrame:
        """`pool` with `score`: the ranker's score of each candidate for its customer."""
        if pool.height == 0:
            return pool.with_columns(pl.lit(None, dtype=pl.Float64).alias("score"))
        # In place: no DMatrix copy of a batch's few million rows (the columns are selected in the booster's order).
        scores = self.booster.inplace_predict(pool.select(self.features).to_numpy().astype(np.float32))
        return pool.with_columns(pl.Series("score", np.asarray(scores).astype(np.float64)))

    def save(self, path: Path) -> None:
        """The booster as xgboost's JSON (no pickle)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(path)

    @classmethod
    def load(cls, path: Path) -> HybridRanker:
        booster = xgb.Booster()
        booster.load_model(path)
        return cls(booster, list(booster.feature_names or []))
