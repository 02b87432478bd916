"""Content-based candidates: products like those a customer kept, or in the categories they told us they like.

It needs no co-purchases, so it covers cold start: a customer with no orders but CRM interests, and a
product launched yesterday with no sales. A product is a vector of attribute tokens in blocks (category,
product line, vendor, kind, tags), each block a unit TF-IDF vector times the square root of its weight, so
two products' dot product is the weighted sum of their per-block cosines: a shared category gives 0.45, a
shared line 0.25, and a block one of them lacks gives nothing. A customer's profile is the recency-weighted
sum of their kept purchases' vectors plus their stated interests as a category-only vector worth
`interest_weight` purchases made today; a SKU scores profile . SKU / |profile|. The profile is never built:
by linearity it is the purchase weights times the SKU x SKU similarity (16 MB at 2,000 SKUs), which also
names the purchase each candidate is most like."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import polars as pl
import scipy.sparse as sp

from ml.recommendations.inputs import CANDIDATE_SCHEMA, RecommendationInputs, empty_candidates
from ml.recommendations.popularity import POPULARITY_DAYS

# Category dominates; the line (a title's first word: "Juniper" Hoodie) is the finer signal of taste.
FIELD_WEIGHTS = {"category": 0.45, "line": 0.25, "vendor": 0.1, "kind": 0.1, "tags": 0.1}
TASTE_HALF_LIFE_DAYS = 180  # taste drifts slower than trends (popularity halves every 30 days)
# A batch holds three dense customers x SKUs arrays (scores, the interests' part, argpartition's indices): ~650 MB at 2,000 SKUs.
BATCH_CUSTOMERS = 20_000
THREADS = 2  # batches scored at once; numpy's partition, which takes half the time, releases the GIL
INTEREST, LIKE, POPULAR = 0, 1, 2
_REASON = pl.when(pl.col("code") == INTEREST).then(pl.format("matches your interest in {}", "category")).when(
    pl.col("code") == LIKE).then(pl.format("like the {} you bought", "title")).otherwise(pl.format("popular in {}", "category"))


@dataclass(frozen=True)
class _Catalog:
    """The product side, one row per SKU of `items` (numbered `item`): SKU x SKU `similarity`, SKU x SKU
    `variants` (1 for the same title and vendor), the `prior`, and `token_weights` (tokens x SKUs) with the
    token columns of `categories`, for the interests' part of profile . SKU."""

    items: pl.DataFrame
    categories: pl.DataFrame
    similarity: np.ndarray
    token_weights: np.ndarray
    variants: sp.csr_matrix
    prior: np.ndarray


def _product_vectors(items: pl.DataFrame) -> tuple[sp.csr_matrix, pl.DataFrame]:
    """SKUs x tokens weights, and the tokens' blocks and columns."""
    words = pl.col("title").str.to_lowercase().str.extract_all(r"\w+")
    fields = {"category": pl.concat_list(pl.col("category").str.to_lowercase()), "line": words.list.head(1),
              "kind": pl.concat_list(words.list.slice(1), pl.col("product_type").str.to_lowercase().str.extract_all(r"\w+")),
              "vendor": pl.concat_list(pl.col("vendor").str.to_lowercase()),
              "tags": pl.col("tags").list.eval(pl.element().str.to_lowercase())}
    tokens = pl.concat([items.select("item", pl.lit(field).alias("field"), expr.alias("token")).explode("token")
                        for field, expr in fields.items()]).filter(pl.col("token").str.len_chars() > 0)
    idf = ((items.height + 1) / (pl.col("item").n_unique().over("field", "token") + 1)).log() + 1
    weighted = tokens.group_by("item", "field", "token").len("weight").with_columns(pl.col("weight") * idf)
    block = pl.col("field").replace_strict(FIELD_WEIGHTS, return_dtype=pl.Float64).sqrt()
    # Not renormalised as a whole: a block a product lacks (no tags) is no match, rather than inflating the others.
    weighted = weighted.with_columns(pl.col("weight") / (pl.col("weight") ** 2).sum().over("item", "field").sqrt() * block)
    columns = weighted.select("field", "token").unique().sort("field", "token").with_row_index("column")
    entries = weighted.join(columns, on=["field", "token"])
    return sp.csr_matrix((entries["weight"], (entries["item"], entries["column"])), (items.height, columns.height), dtype=np.float32), columns


def _catalog(inputs: RecommendationInputs, popularity_weight: float) -> _Catalog:
    """The product side, computed once for all customers."""
    items = inputs.products.unique("sku", keep="first", maintain_order=True).with_row_index("item")
    vectors, columns = _product_vectors(items)
    product = items.select(pl.struct("title", "vendor").rank("dense")).to_series().to_numpy()
    variants = sp.csr_matrix((np.ones(items.height), (np.arange(items.height), product)))
    recent = inputs.kept_purchases().filter(pl.col("ordered_at").is_between(
        inputs.as_of - timedelta(days=POPULARITY_DAYS), inputs.as_of, closed="left")).join(items, on="sku")
    counts = np.bincount(recent["item"].to_numpy(), minlength=items.height)
    # In [0, popularity_weight]: the prior orders ties in taste and fills lists; it cannot outweigh a category.
    prior = popularity_weight * np.log1p(counts) / max(float(np.log1p(counts.max(initial=0))), 1.0)
    return _Catalog(items, columns.filter(pl.col("field") == "category").select("token", "column"), (vectors @ vectors.T).toarray(),
                    vectors.T.toarray(), (variants @ variants.T).tocsr(), prior.astype(np.float32))


def _customer_weights(inputs: RecommendationInputs, wanted: pl.DataFrame, catalog: _Catalog,
                      interest_weight: float) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Recency weights of kept purchases (customers x SKUs) and stated interests (customers x tokens)."""
    age_days = (pl.lit(inputs.as_of) - pl.col("ordered_at")).dt.total_seconds() / 86_400
    # Each kept order line counts, so buying a product again is more evidence of liking it; quantity is not.
    bought = inputs.kept_purchases().filter(pl.col("ordered_at") < inputs.as_of).join(wanted, on="customer_id").join(
        catalog.items.select("sku", "item"), on="sku").group_by("row", "item").agg(
        (0.5 ** (age_days / TASTE_HALF_LIFE_DAYS)).sum().alias("weight"))
    stated = inputs.customers.join(wanted, on="customer_id").select("row", pl.col("interests").list.eval(
        pl.element().str.strip_chars().str.to_lowercase()).alias("token")).explode("token").join(
        catalog.categories, on="token").unique(["row", "column"])
    # A virtual purchase of a product that is nothing but category, its unit block spread over the interests.
    stated = stated.with_columns((interest_weight * FIELD_WEIGHTS["category"] ** 0.5 / pl.len().over("row").sqrt()).alias("weight"))
    return (sp.csr_matrix((bought["weight"], (bought["row"], bought["item"])), (wanted.height, catalog.items.height), dtype=np.float32),
            sp.csr_matrix((stated["weight"], (stated["row"], stated["column"])), (wanted.height, catalog.token_weights.shape[0]),
                          dtype=np.float32))


def _closest_purchases(taste: sp.csr_matrix, similarity: np.ndarray, top: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per candidate in `top`: its purchase history's part of profile . SKU, and the purchase giving most (-1: none)."""
    pairs = top.size
    counts = np.repeat(np.diff(taste.indptr), top.shape[1])  # one run of entries per pair: the customer's purchases
    pair, ends = np.repeat(np.arange(pairs), counts), np.cumsum(counts)
    entry = taste.indptr[pair // top.shape[1]] + np.arange(len(pair)) - np.repeat(ends - counts, counts)
    contribution = taste.data[entry] * similarity[taste.indices[entry], top.ravel()[pair]]
    history, closest = np.zeros(pairs), np.full(pairs, -1)
    if len(pair):
        runs = counts > 0
        history[runs] = np.add.reduceat(contribution, (ends - counts)[runs])
        best = np.flatnonzero(contribution == np.repeat(np.maximum.reduceat(contribution, (ends - counts)[runs]), counts[runs]))
        first = best[np.r_[True, pair[best][1:] != pair[best][:-1]]]
        closest[pair[first]] = taste.indices[entry[first]]
    return history, closest


def _score_batch(catalog: _Catalog, customer_ids: pl.Series, taste: sp.csr_matrix, interests: sp.csr_matrix, n: int) -> pl.DataFrame:
    """Candidates for a batch of customers: their top n SKUs, each with the reason that weighed most."""
    stated = np.asarray(interests @ catalog.token_weights, dtype=np.float32)
    scores = np.asarray(taste @ catalog.similarity, dtype=np.float32) + stated
    at = taste.tocoo()
    # |profile|^2 = r.S.r + 2 r.J + |interests|^2, where scores = S.r + J and J is the interests' part.
    squared = np.asarray(interests.multiply(interests).sum(axis=1), dtype=np.float64).ravel() + np.bincount(
        at.row, at.data * (scores[at.row, at.col] + stated[at.row, at.col]), minlength=len(scores))
    norm = np.where(squared > 0, np.sqrt(np.maximum(squared, 0)), 1.0).astype(np.float32)
    scores /= norm[:, None]
    scores += catalog.prior
    seen = (taste @ catalog.variants).tocoo()
    scores[seen.row, seen.col] = -np.inf
    top = np.argpartition(scores, -n, axis=1)[:, -n:] if n < scores.shape[1] else np.tile(np.arange(n), (len(scores), 1))
    best = np.take_along_axis(scores, top, axis=1)
    order = np.lexsort((top, -best), axis=1)
    top, best = np.take_along_axis(top, order, axis=1), np.take_along_axis(best, order, axis=1).ravel()
    history, closest = _closest_purchases(taste, catalog.similarity, top)
    row, item = np.repeat(np.arange(len(scores)), n), top.ravel()
    # The reason is the part that gave most: the stated interests, the purchases, or the popularity prior.
    interest, liked, popular = np.take_along_axis(stated, top, axis=1).ravel() / norm[row], history / norm[row], catalog.prior[item]
    reason = np.where((interest > 0) & (interest >= liked) & (interest >= popular), INTEREST,
                      np.where((liked > 0) & (liked >= popular), LIKE, POPULAR))
    keep = np.isfinite(best) & (best > 0)
    item, closest = item[keep], np.maximum(closest[keep], 0)  # closest is read only for LIKE, which always has one
    return pl.DataFrame({"customer_id": customer_ids.gather(row[keep]), "sku": catalog.items["sku"].gather(item),
                         "score": best[keep].astype(np.float64), "code": reason[keep], "category": catalog.items["category"].gather(item),
                         "title": catalog.items["title"].gather(closest)}).select("customer_id", "sku", "score", _REASON.alias("reason"))


def content_candidates(inputs: RecommendationInputs, customer_ids: Sequence[str] | pl.Series, n: int, *,
                       interest_weight: float = 1.0, popularity_weight: float = 0.1) -> pl.DataFrame:
    """Up to `n` SKUs per customer, by similarity to their taste profile + popularity_weight x log-popularity in [0, 1].

    Leaves out what the customer kept and its other variants: "like the Juniper Hoodie you bought" for the
    hoodie in another size says nothing. Customers unknown to purchases and customers, and those who opted
    out of personalization, get no rows; nor does a SKU nothing speaks for (score 0)."""
    known = pl.concat([inputs.purchases.select("customer_id"), inputs.customers.select("customer_id")])
    opted_out = inputs.customers.filter(pl.col("is_personalization_withheld")).select("customer_id")
    wanted = pl.DataFrame({"customer_id": pl.Series(customer_ids, dtype=pl.String)}).unique(maintain_order=True).join(
        known, on="customer_id", how="semi").join(opted_out, on="customer_id", how="anti").with_row_index("row")
    if wanted.height == 0 or inputs.products.height == 0 or n <= 0:
        return empty_candidates()
    catalog = _catalog(inputs, popularity_weight)
    taste, interests = _customer_weights(inputs, wanted, catalog, interest_weight)
    batches = [slice(start, start + BATCH_CUSTOMERS) for start in range(0, wanted.height, BATCH_CUSTOMERS)]
    with ThreadPoolExecutor(THREADS) as pool:
        found = pl.concat(pool.map(lambda rows: _score_batch(catalog, wanted["customer_id"][rows], taste[rows], interests[rows],
                                                             min(n, catalog.items.height)), batches))
    return found.select(pl.col(name).cast(dtype) for name, dtype in CANDIDATE_SCHEMA.items())
