"""Top-k quality of recommendation lists against what each customer bought afterwards.

Definitions follow RecBole and Microsoft Recommenders: binary relevance, NDCG with a log2(rank + 1)
discount and an ideal list of min(k, relevant items) hits, and average precision normalised by the
same min(k, relevant items), so that a customer who bought more than k items can still score 1.
One difference: a customer who bought something but got no list counts as a miss rather than being
dropped, so a recommender cannot look better by staying silent on hard customers.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl


def ranking_metrics(recommended: pl.DataFrame, relevant: pl.DataFrame, *, k: int = 10,
                    catalog_skus: int, item_popularity: pl.DataFrame | None = None) -> dict[str, float]:
    """Precision, recall, NDCG, MAP and hit rate at `k` averaged over customers with a relevant item,
    plus catalog coverage and novelty of everyone's top-k (novelty NaN without `item_popularity`)."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if catalog_skus < 1:
        raise ValueError(f"catalog_skus must be at least 1, got {catalog_skus}")
    _require_columns(recommended, "recommended", ("customer_id", "sku", "rank"))
    _require_columns(relevant, "relevant", ("customer_id", "sku"))
    # Keys as strings, so an empty frame built without a schema (null dtype) still joins.
    keys = pl.col("customer_id", "sku").cast(pl.String)
    top = recommended.lazy().filter(pl.col("rank") <= k).with_columns(keys)
    bought = relevant.lazy().select(keys).unique()
    metrics = _accuracy(top, bought, k)
    # Lazy even for one number: the eager `n_unique` is several times slower on millions of strings.
    metrics["catalog_coverage"] = top.select(pl.col("sku").n_unique()).collect().item() / catalog_skus
    metrics["novelty"] = math.nan if item_popularity is None else _novelty(top, item_popularity)
    return metrics


def _require_columns(frame: pl.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}; it has {frame.columns}")


def _accuracy(top: pl.LazyFrame, bought: pl.LazyFrame, k: int) -> dict[str, float]:
    """Per-customer hits, DCG and average precision, then their means over customers who bought."""
    # A sku listed twice for one customer is one hit, at the better of its ranks; deduplicating only the
    # hits, after the join, spares a group-by over every recommendation.
    hits = (top.join(bought, on=["customer_id", "sku"], how="inner")
            .group_by("customer_id", "sku").agg(pl.col("rank").min())
            .sort("customer_id", "rank")
            .with_columns(hits_so_far=pl.int_range(1, pl.len() + 1).over("customer_id"))
            .group_by("customer_id")
            .agg(hits=pl.len(),
                 dcg=(1.0 / (pl.col("rank") + 1).log(2)).sum(),
                 precision_sum=(pl.col("hits_so_far") / pl.col("rank")).sum()))
    # Ideal DCG for n hits is the sum of the first n discounts: a k-row lookup table.
    ideal = pl.LazyFrame({"ideal_hits": np.arange(1, k + 1, dtype=np.uint32),
                          "ideal_dcg": np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))})
    means = (bought.group_by("customer_id").agg(relevant_items=pl.len())
             .join(hits, on="customer_id", how="left")
             .with_columns(pl.col("hits", "dcg", "precision_sum").fill_null(0),
                           ideal_hits=pl.min_horizontal(pl.col("relevant_items"), pl.lit(k, dtype=pl.UInt32)))
             .join(ideal, on="ideal_hits", how="left")
             .select(precision_at_k=(pl.col("hits") / k).mean(),
                     recall_at_k=(pl.col("hits") / pl.col("relevant_items")).mean(),
                     ndcg_at_k=(pl.col("dcg") / pl.col("ideal_dcg")).mean(),
                     map_at_k=(pl.col("precision_sum") / pl.col("ideal_hits")).mean(),
                     hit_rate_at_k=(pl.col("hits") > 0).mean(),
                     evaluated_customers=pl.len())
             .collect().row(0, named=True))
    # No one bought anything: the means are null, reported as NaN.
    return {name: math.nan if value is None else float(value) for name, value in means.items()}


def _novelty(top: pl.LazyFrame, item_popularity: pl.DataFrame) -> float:
    """Mean self-information -log2 p(sku) over every top-k slot, p being the sku's share of interactions."""
    _require_columns(item_popularity, "item_popularity", ("sku", "interactions"))
    counts = item_popularity.lazy().group_by(pl.col("sku").cast(pl.String)).agg(pl.col("interactions").sum())
    total = counts.select(pl.col("interactions").sum()).collect().item()
    # A sku nobody interacted with would have infinite novelty; count it as one interaction instead.
    novelty = (top.join(counts, on="sku", how="left")
               .select(-(pl.col("interactions").fill_null(1).clip(lower_bound=1) / total).log(2).mean())
               .collect().item())
    return math.nan if novelty is None or not total > 0 else float(novelty)
