"""The shortcuts that make a million customers fit in a night change no list: the rules' filters
applied before ranking, popularity lists computed once, and customers folded into ALS."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from ml.recommendations.business_rules import admissible, apply_rules
from ml.recommendations.buy_again import repurchase_cycles
from ml.recommendations.candidate_pool import fit_methods, method_candidates, pooled
from ml.recommendations.inputs import RecommendationInputs
from ml.recommendations.popularity import popularity_candidates, popularity_lists


def _buyers(inputs: RecommendationInputs, n: int = 600) -> pl.Series:
    return inputs.kept_purchases()["customer_id"].unique().sort().head(n)


def test_filtering_by_the_rules_before_ranking_changes_no_list(demo_inputs: RecommendationInputs) -> None:
    customers = _buyers(demo_inputs)
    fitted = fit_methods(demo_inputs)
    pool = pooled(method_candidates(demo_inputs, fitted, customers, 20))
    ranked = pool.select("customer_id", "sku", pl.coalesce("collaborative_score", "popularity_score", pl.lit(0.0)).alias("score"), "reason")
    cycles = repurchase_cycles(demo_inputs)
    kept = admissible(ranked, demo_inputs, cycles)
    assert 0 < kept.height < ranked.height, "the demo's candidates include rows the rules drop"
    assert_frame_equal(apply_rules(kept, demo_inputs, cycles), apply_rules(ranked, demo_inputs, cycles))


def test_popularity_lists_computed_once_give_each_customer_the_same_candidates(demo_inputs: RecommendationInputs) -> None:
    customers = demo_inputs.customers["customer_id"].head(500)
    once = popularity_lists(demo_inputs, 100)
    assert once.filter(pl.col("country_code").is_not_null()).height > 0, "the demo has countries with their own list"
    assert_frame_equal(popularity_candidates(demo_inputs, customers, 20, lists=once), popularity_candidates(demo_inputs, customers, 20))


def test_a_nightly_fit_on_a_sample_of_buyers_still_knows_every_buyer(demo_inputs: RecommendationInputs) -> None:
    buyers = demo_inputs.kept_purchases()["customer_id"].n_unique()
    full, sampled = fit_methods(demo_inputs), fit_methods(demo_inputs, max_customers=buyers // 4)
    assert sampled.collaborative is not None and full.collaborative is not None
    assert sampled.collaborative.customer_ids == full.collaborative.customer_ids
    everyone = _buyers(demo_inputs, buyers)
    assert sampled.collaborative.recommend(everyone, 10).height == full.collaborative.recommend(everyone, 10).height
