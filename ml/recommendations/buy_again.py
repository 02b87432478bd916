"""The buy-again baseline, and the re-purchase cycles it learns: which SKUs people buy again, and
how long after. A consumable is a SKU that enough of its buyers re-buy on a regular gap; it is the
one kind of product the rules let a recommendation repeat, once it is due."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from ml.recommendations.inputs import CANDIDATE_SCHEMA, RecommendationInputs

MIN_REPEATS = 10
"""Re-purchases of a SKU (by anyone) before its cycle is trusted."""
MIN_REPEAT_SHARE = 0.1
"""Share of a SKU's buyers who bought it again, for it to count as a consumable."""
DUE_FROM = 0.8
"""A consumable is due this many cycles after its last purchase."""
_DAY = 86_400


def repurchase_cycles(inputs: RecommendationInputs) -> pl.DataFrame:
    """sku, cycle_days (median gap between one buyer's purchases of it), repeats, repeat_share: the
    SKUs that behave as consumables."""
    kept = inputs.kept_purchases().select("customer_id", "sku", pl.col("ordered_at").dt.date().alias("day")).unique()
    buyers = kept.group_by("sku").agg(pl.col("customer_id").n_unique().alias("buyers"))
    # Only a customer's second and later days with a SKU make a gap: sorting just those is a fraction of the work.
    again = kept.filter(pl.len().over("customer_id", "sku") > 1).sort("day")
    gaps = again.with_columns(pl.col("day").diff().over("customer_id", "sku").dt.total_days().alias("gap")).drop_nulls("gap")
    per_sku = gaps.group_by("sku").agg(
        pl.col("gap").median().alias("cycle_days"), pl.len().alias("repeats"),
        pl.col("customer_id").n_unique().alias("repeat_buyers"),
    ).join(buyers, on="sku")
    return per_sku.with_columns((pl.col("repeat_buyers") / pl.col("buyers")).alias("repeat_share")).filter(
        (pl.col("repeats") >= MIN_REPEATS) & (pl.col("repeat_share") >= MIN_REPEAT_SHARE) & (pl.col("cycle_days") > 0)
    ).select("sku", pl.col("cycle_days").cast(pl.Float64), "repeats", "repeat_share").sort("sku")


def last_purchases(inputs: RecommendationInputs) -> pl.DataFrame:
    """customer_id, sku, days_since (since the customer last kept it, as of the cutoff), times."""
    since = (pl.lit(inputs.as_of) - pl.col("ordered_at").max()).dt.total_seconds() / _DAY
    return inputs.kept_purchases().group_by("customer_id", "sku").agg(since.alias("days_since"), pl.len().alias("times"))


def buy_again_candidates(inputs: RecommendationInputs, customer_ids: Sequence[str] | pl.Series, n: int,
                         cycles: pl.DataFrame | None = None) -> pl.DataFrame:
    """What each customer bought before: a consumable scored by how due it is (best at one cycle
    since the last purchase, "you buy this about every N days"), anything else by how often and how
    lately they bought it ("you bought this before"), below any due consumable."""
    cycles = repurchase_cycles(inputs) if cycles is None else cycles
    wanted = pl.DataFrame({"customer_id": pl.Series(customer_ids, dtype=pl.String)}).unique()
    history = last_purchases(inputs.for_customers(wanted["customer_id"])).join(
        cycles.select("sku", "cycle_days"), on="sku", how="left")
    due = pl.col("days_since") / pl.col("cycle_days")
    consumable = pl.col("cycle_days").is_not_null()
    # Due-ness peaks at one cycle and fades over three; a plain repeat decays with a 90-day half-life.
    score = (pl.when(consumable & (due >= DUE_FROM)).then(2.0 + (-(due - 1).abs() / 2).exp())
             .when(consumable).then(due)
             .otherwise(pl.col("times").log1p() * 0.5 ** (pl.col("days_since") / 90)).cast(pl.Float64))
    reason = (pl.when(consumable).then(pl.format("you buy this about every {} days", pl.col("cycle_days").round(0).cast(pl.Int64)))
              .otherwise(pl.lit("you bought this before")))
    return (history.with_columns(score.alias("score"), reason.alias("reason"))
            .sort("score", "sku", descending=[True, False]).group_by("customer_id", maintain_order=True).head(n)
            .select(pl.col(name).cast(dtype) for name, dtype in CANDIDATE_SCHEMA.items()))
