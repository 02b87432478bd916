"""Every method's candidates for a set of customers, side by side: one row per customer and SKU
with each method's score and rank (null where it did not propose it), the input of the hybrid."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import polars as pl

from ml.recommendations.buy_again import buy_again_candidates, repurchase_cycles
from ml.recommendations.co_purchase import co_purchase_candidates, item_similarities
from ml.recommendations.collaborative_filtering import CollaborativeFiltering, CollaborativeSettings
from ml.recommendations.content_based import content_candidates
from ml.recommendations.inputs import CANDIDATE_SCHEMA, RecommendationInputs, empty_candidates
from ml.recommendations.popularity import popularity_candidates, popularity_lists

METHODS = ("collaborative", "co_purchase", "content", "buy_again", "popularity")
REASON_PRIORITY = ("buy_again", "co_purchase", "content", "collaborative", "popularity")
"""Whose reason a customer reads when several methods proposed an item: the most specific first."""
REASON_RANK = 20
"""A method speaks for an item it ranks this high or higher; past it, only the best-ranking method does."""
INTERACTION_HALF_LIFE_DAYS = 180
COLLABORATIVE_REASON = "customers who buy what you buy chose it"
POPULAR_LISTED = 100
"""SKUs kept per popularity list when fitting: more than any method's candidates."""


@dataclass
class FittedMethods:
    """What the methods learned from one set of inputs, kept for serving (similar products)."""

    collaborative: CollaborativeFiltering | None = None
    similarities: pl.DataFrame = field(default_factory=pl.DataFrame)
    cycles: pl.DataFrame = field(default_factory=pl.DataFrame)
    """The re-purchase cycles (buy_again.repurchase_cycles): the buy-again candidates, the rank
    features and the rules all need them, and they cost a pass over every purchase."""
    popular: pl.DataFrame | None = None
    """popularity.popularity_lists, POPULAR_LISTED long: the same for every batch of customers."""


def purchase_weights(inputs: RecommendationInputs) -> pl.DataFrame:
    """customer_id, sku, weight: kept purchases, each halving in weight every INTERACTION_HALF_LIFE_DAYS."""
    age_days = (pl.lit(inputs.as_of) - pl.col("ordered_at")).dt.total_seconds() / 86_400
    return inputs.kept_purchases().group_by("customer_id", "sku").agg(
        (0.5 ** (age_days / INTERACTION_HALF_LIFE_DAYS)).sum().alias("weight"))


def collaborative_candidates(model: CollaborativeFiltering | None, customer_ids: Sequence[str] | pl.Series,
                             n: int) -> pl.DataFrame:
    """ALS's top n for customers it knows (new customers are the content method's job)."""
    if model is None:
        return empty_candidates()
    return model.recommend(customer_ids, n).select(
        "customer_id", "sku", "score", pl.lit(COLLABORATIVE_REASON).alias("reason"))


def fit_methods(inputs: RecommendationInputs, settings: CollaborativeSettings = CollaborativeSettings(),
                for_customers: pl.Series | None = None, max_customers: int | None = None) -> FittedMethods:
    """Fit the methods that learn from all purchases at once (ALS, co-purchase similarity).

    With `max_customers`, ALS learns from at most that many customers: enough to place every product,
    at a fraction of the cost on a large base. Given `for_customers` (the only ones to be scored:
    training and judging score a few thousand), they plus a sample of the others are all it knows;
    without, it learns from a sample and folds every other customer in (the nightly lists)."""
    weights = purchase_weights(inputs)
    learners = None
    if max_customers is not None and weights["customer_id"].n_unique() > max_customers:
        wanted = pl.DataFrame(schema={"customer_id": pl.String}) if for_customers is None else for_customers.to_frame("customer_id")
        others = weights.select("customer_id").unique().join(wanted, on="customer_id", how="anti")
        room = max(max_customers - wanted.height, 0)
        learners = pl.concat([wanted, others.sort("customer_id").sample(min(room, others.height), seed=7)])["customer_id"]
        if for_customers is not None:
            weights, learners = weights.join(learners.to_frame(), on="customer_id", how="semi"), None
    model = CollaborativeFiltering.fit(weights, settings, learn_from=learners) if weights.height else None
    return FittedMethods(collaborative=model, similarities=item_similarities(inputs), cycles=repurchase_cycles(inputs),
                         popular=popularity_lists(inputs, POPULAR_LISTED))


def method_candidates(inputs: RecommendationInputs, fitted: FittedMethods, customer_ids: pl.Series,
                      n: int) -> dict[str, pl.DataFrame]:
    """Each method's top n per customer (CANDIDATE_SCHEMA)."""
    runs: dict[str, Callable[[], pl.DataFrame]] = {
        "collaborative": lambda: collaborative_candidates(fitted.collaborative, customer_ids, n),
        "co_purchase": lambda: co_purchase_candidates(inputs, customer_ids, n, similarities=fitted.similarities),
        "content": lambda: content_candidates(inputs, customer_ids, n),
        "buy_again": lambda: buy_again_candidates(inputs, customer_ids, n, fitted.cycles),
        "popularity": lambda: popularity_candidates(inputs, customer_ids, n, lists=fitted.popular),
    }
    return {name: runs[name]().select(pl.col(c).cast(t) for c, t in CANDIDATE_SCHEMA.items()) for name in METHODS}


def pooled(candidates: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """customer_id, sku, <method>_score, <method>_rank per method, and `reason`: the most specific
    reason among the methods that rank the SKU within REASON_RANK for the customer, else the reason
    of the method ranking it best."""
    long = pl.concat([frame.with_columns(
        pl.col("score").rank("ordinal", descending=True).over("customer_id").cast(pl.Int64).alias("rank"),
        pl.lit(position, dtype=pl.Int8).alias("method"),
        pl.lit(REASON_PRIORITY.index(name) if name in REASON_PRIORITY else len(REASON_PRIORITY), dtype=pl.Int32).alias("specificity"))
        for position, (name, frame) in enumerate(candidates.items())])
    speaks = (pl.col("rank") > REASON_RANK).cast(pl.Int64) * 1_000_000 + pl.col("specificity") * 10_000 + pl.col("rank")
    # Each method's columns are spread out before grouping, so the group-by runs only max() and first(),
    # its fast paths (a filter per group and method took 7 s per 100k customers); the frame is sorted by
    # `speaks` so that a group's first reason is the one that speaks (unique: methods differ in specificity).
    spread = [pl.when(pl.col("method") == position).then(pl.col(part)).alias(f"{name}_{part}")
              for position, name in enumerate(candidates) for part in ("score", "rank")]
    wide = long.select("customer_id", "sku", "reason", *spread, speaks.alias("speaks")).sort("speaks")
    return wide.group_by("customer_id", "sku").agg(
        *(pl.col(f"{name}_{part}").max() for name in candidates for part in ("score", "rank")), pl.col("reason").first())
