"""Item-to-item "bought together": SKUs the same customers keep within a few weeks of each other, and
candidates from the SKUs most similar to what a customer bought last.

Pairs are counted with a polars self-join of each customer's purchase days, not a sparse C^T·C: that
product cannot see when things were bought, and the window (a tent buyer coming back for a sleeping bag)
is the point. Capping each customer at their latest MAX_EVENTS_PER_CUSTOMER purchase days keeps the join
linear in customers. Candidates are a sparse product of recency weights and similarities."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
import scipy.sparse as sp

from ml.recommendations.inputs import CANDIDATE_SCHEMA, RecommendationInputs

SIMILARITY_SCHEMA = {"sku": pl.String, "similar_sku": pl.String, "score": pl.Float64, "support": pl.Int64}
MAX_EVENTS_PER_CUSTOMER = 50
"""A reseller's thousands of lines would make their pairs quadratic; their latest 50 (SKU, day)s still count."""
SHRINK = 10.0
"""Added to the cosine's denominator: two SKUs with two buyers each, both shared, are weaker evidence than 60 of 100."""
RECENCY_HALF_LIFE_DAYS = 30


def _codes(column: str, levels: pl.Series) -> pl.Expr:
    """The column as integer positions in `levels` (sorted, containing every value)."""
    return pl.col(column).cast(pl.Enum(levels)).to_physical()


def item_similarities(inputs: RecommendationInputs, *, neighbours: int = 20, window_days: int = 90,
                      min_support: int = 2, shrink: float = SHRINK) -> pl.DataFrame:
    """sku, similar_sku, score, support: for each SKU its most co-purchased other SKUs.

    Support counts distinct customers who kept both SKUs within `window_days` of each other (same order
    or a later one). Score is a shrunk cosine, support / (sqrt(buyers_i * buyers_j) + shrink): dividing
    by both SKUs' buyers stops an item everyone buys from being everyone's neighbour."""
    kept = inputs.kept_purchases()
    customers, skus = kept["customer_id"].unique().sort(), kept["sku"].unique().sort()
    days = kept.select(_codes("customer_id", customers).alias("customer"), _codes("sku", skus).alias("item"),
                       pl.col("ordered_at").dt.date().cast(pl.Int32).alias("day")).unique()
    days = days.sort(["customer", "day", "item"], descending=[False, True, False]).filter(
        pl.int_range(pl.len()).over("customer") < MAX_EVENTS_PER_CUSTOMER)
    other = days.lazy().select("customer", pl.col("item").alias("other"), pl.col("day").alias("other_day"))
    # item < other: each unordered pair is counted once, then mirrored, as the window is symmetric.
    support = days.lazy().join(other, on="customer").filter(
        (pl.col("item") < pl.col("other")) & ((pl.col("day") - pl.col("other_day")).abs() <= window_days)
    ).group_by("item", "other").agg(pl.col("customer").n_unique().alias("support")).filter(
        pl.col("support") >= min_support).collect()
    buyers = days.group_by("item").agg(pl.col("customer").n_unique().cast(pl.Float64).alias("buyers"))
    both_ways = pl.concat([support, support.select(pl.col("other").alias("item"), pl.col("item").alias("other"), "support")])
    scored = both_ways.join(buyers, on="item").join(buyers.select(pl.col("item").alias("other"), pl.col("buyers").alias("other_buyers")),
                                                    on="other")
    scored = scored.with_columns(score=pl.col("support") / ((pl.col("buyers") * pl.col("other_buyers")).sqrt() + shrink),
                                 sku=skus.gather(scored["item"]), similar_sku=skus.gather(scored["other"]))
    return scored.sort(["sku", "score", "similar_sku"], descending=[False, True, False]).group_by(
        "sku", maintain_order=True).head(neighbours).select(pl.col(name).cast(dtype) for name, dtype in SIMILARITY_SCHEMA.items())


def co_purchase_candidates(inputs: RecommendationInputs, customer_ids: Sequence[str] | pl.Series, n: int,
                           similarities: pl.DataFrame | None = None, recent_items: int = 10) -> pl.DataFrame:
    """CANDIDATE_SCHEMA rows: items similar to the customer's `recent_items` most recently bought SKUs,
    scored by the sum of similarities weighted by recency; reason 'bought together with <title of the
    strongest source item>'. All filtering (already bought, out of stock) is left to the business rules."""
    similar = item_similarities(inputs) if similarities is None else similarities
    customers = pl.Series(customer_ids, dtype=pl.String).unique().sort()
    kept = inputs.kept_purchases().filter(pl.col("customer_id").is_in(customers))
    skus = pl.concat([kept["sku"], similar["sku"], similar["similar_sku"]]).unique().sort()
    bought = kept.group_by(_codes("customer_id", customers).alias("row"), _codes("sku", skus).alias("item")).agg(pl.col("ordered_at").max())
    age_days = (pl.lit(inputs.as_of) - pl.col("ordered_at")).dt.total_seconds() / 86_400
    # Halving every RECENCY_HALF_LIFE_DAYS: last week's tent says more about what comes next than last year's.
    sources = bought.sort(["row", "ordered_at", "item"], descending=[False, True, False]).select(
        "row", "item", pl.int_range(pl.len()).over("row").alias("slot"), (0.5 ** (age_days / RECENCY_HALF_LIFE_DAYS)).alias("weight"),
    ).filter(pl.col("slot") < recent_items)
    similarity = sp.csr_array((similar["score"].to_numpy(), (similar.select(_codes("sku", skus))["sku"].to_numpy(),
                               similar.select(_codes("similar_sku", skus))["similar_sku"].to_numpy())), shape=(len(skus), len(skus)))
    best = _top_scores(sources, similarity, len(customers), n)
    strongest = _strongest_sources(sources, similarity, best, len(customers), recent_items)
    titles = pl.DataFrame({"sku": skus}).join(inputs.products.select("sku", "title"), on="sku", how="left", maintain_order="left")
    reasons = titles.select(pl.lit("bought together with ") + pl.coalesce("title", "sku"))
    return pl.DataFrame({"customer_id": customers.gather(best["row"]), "sku": skus.gather(best["item"]), "score": best["score"],
                         "reason": reasons.to_series().gather(strongest)}, schema=CANDIDATE_SCHEMA)


def _top_scores(sources: pl.DataFrame, similarity: sp.csr_array, customers: int, n: int) -> pl.DataFrame:
    """row, item, score: the n best items per customer row of (recency weights x similarities)."""
    weights = sp.csr_array((sources["weight"].to_numpy(), (sources["row"].to_numpy(), sources["item"].to_numpy())),
                           shape=(customers, similarity.shape[0]))
    # The sparse product sums each candidate's contributions over the customer's source SKUs in compiled code.
    scores = weights @ similarity
    rows = np.repeat(np.arange(customers, dtype=np.uint32), np.diff(scores.indptr))
    # Flagged sorted (it is, row by row) so that polars ranks each row without hashing a million groups.
    frame = pl.DataFrame({"row": pl.Series(rows).set_sorted(), "item": scores.indices.astype(np.uint32), "score": scores.data})
    return frame.filter(pl.col("score").rank("ordinal", descending=True).over("row") <= n)


def _strongest_sources(sources: pl.DataFrame, similarity: sp.csr_array, best: pl.DataFrame, customers: int, slots: int) -> np.ndarray:
    """For each row of `best`, the customer's source item that contributed most to its score."""
    source_items, weights = np.zeros((slots, customers), dtype=np.int64), np.zeros((slots, customers))
    source_items[sources["slot"], sources["row"]] = sources["item"]
    weights[sources["slot"], sources["row"]] = sources["weight"]
    rows, items = best["row"].to_numpy(), best["item"].to_numpy()
    filled = np.bincount(sources["row"].to_numpy(), minlength=customers)[rows]
    strongest, strongest_contribution = np.zeros(len(rows), dtype=np.int64), np.full(len(rows), -1.0)
    # One similarity look-up per source slot, over the candidates whose customer has that many sources.
    for slot in range(slots):
        present = np.flatnonzero(filled > slot)
        if present.size == 0:  # scipy answers an empty look-up with a sparse array, and no later slot is filled
            break
        source = source_items[slot, rows[present]]
        contribution = weights[slot, rows[present]] * similarity[source, items[present]]
        stronger = contribution > strongest_contribution[present]
        strongest[present[stronger]], strongest_contribution[present[stronger]] = source[stronger], contribution[stronger]
    return strongest
