"""The popularity baseline: what many people bought lately, overall or in the customer's country.

It is the list every recommender must beat, and the list a customer gets when they opted out of
personalization (it says nothing about them)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import polars as pl

from ml.recommendations.inputs import CANDIDATE_SCHEMA, RecommendationInputs

POPULARITY_DAYS = 90
HALF_LIFE_DAYS = 30
MIN_COUNTRY_BUYERS = 200
"""A country's own list is used once this many of its customers bought in the window."""


def popular_skus(inputs: RecommendationInputs, *, days: int = POPULARITY_DAYS) -> pl.DataFrame:
    """sku, score (recency-weighted distinct buyers over the last `days`), buyers; best first."""
    return _weighted_buyers(inputs, days, []).sort("score", "sku", descending=[True, False])


def _weighted_buyers(inputs: RecommendationInputs, days: int, by: list[str]) -> pl.DataFrame:
    start = inputs.as_of - timedelta(days=days)
    recent = inputs.kept_purchases().filter(pl.col("ordered_at") >= start)
    if by:
        recent = recent.join(inputs.customers.select("customer_id", *by), on="customer_id", how="inner")
    age_days = (pl.lit(inputs.as_of) - pl.col("ordered_at")).dt.total_seconds() / 86_400
    # One vote per buyer (their latest purchase), halving every HALF_LIFE_DAYS: a trend shows early.
    per_buyer = recent.group_by(*by, "sku", "customer_id").agg(age_days.min().alias("age_days"))
    return per_buyer.group_by(*by, "sku").agg(
        (0.5 ** (pl.col("age_days") / HALF_LIFE_DAYS)).sum().alias("score"), pl.len().alias("buyers"))


def popularity_lists(inputs: RecommendationInputs, n: int, *, days: int = POPULARITY_DAYS) -> pl.DataFrame:
    """country_code, sku, score, reason: the shop's `n` most popular SKUs (country_code null, "popular
    right now") and the `n` of each country where enough of its customers bought lately ("popular in
    your country"); best first. Computed once, they serve every batch of customers."""
    overall = popular_skus(inputs, days=days).head(n).select(
        pl.lit(None, dtype=pl.String).alias("country_code"), "sku", "score", pl.lit("popular right now").alias("reason"))
    by_country = _weighted_buyers(inputs, days, ["country_code"]).filter(pl.col("country_code").is_not_null())
    buyers = inputs.kept_purchases().filter(pl.col("ordered_at") >= inputs.as_of - timedelta(days=days)).join(
        inputs.customers.select("customer_id", "country_code"), on="customer_id", how="inner"
    ).group_by("country_code").agg(pl.col("customer_id").n_unique().alias("country_buyers"))
    own_lists = by_country.join(buyers.filter(pl.col("country_buyers") >= MIN_COUNTRY_BUYERS), on="country_code",
                                how="semi").sort("score", "sku", descending=[True, False]).group_by(
        "country_code", maintain_order=True).head(n).select(
        "country_code", "sku", "score", pl.lit("popular in your country").alias("reason"))
    return pl.concat([overall, own_lists]).with_columns(pl.col("score").cast(pl.Float64))


def popularity_candidates(inputs: RecommendationInputs, customer_ids: Sequence[str] | pl.Series, n: int, *,
                          days: int = POPULARITY_DAYS, lists: pl.DataFrame | None = None) -> pl.DataFrame:
    """The `n` most popular SKUs for each customer: their country's list where it has one, else the
    shop's (`lists`: popularity_lists of these inputs with at least `n` per list, if at hand)."""
    lists = popularity_lists(inputs, n, days=days) if lists is None else lists
    lists = lists.group_by("country_code", maintain_order=True).head(n)
    wanted = pl.DataFrame({"customer_id": pl.Series(customer_ids, dtype=pl.String)}).unique(maintain_order=True)
    own_lists = lists.filter(pl.col("country_code").is_not_null())
    countries = wanted.join(inputs.customers.select("customer_id", "country_code"), on="customer_id", how="left")
    with_own = countries.join(own_lists.select("country_code").unique(), on="country_code", how="semi")
    rest = countries.join(with_own, on="customer_id", how="anti")
    return pl.concat([
        with_own.join(own_lists, on="country_code", how="inner").drop("country_code"),
        rest.drop("country_code").join(lists.filter(pl.col("country_code").is_null()).drop("country_code"), how="cross"),
    ]).select(pl.col(name).cast(dtype) for name, dtype in CANDIDATE_SCHEMA.items())
