"""Synthetic nightly recommendations for the feature-store bench: each customer's 10 products of
the demo shop's catalog, with titles and reasons worded as the recommender words them, each SKU's
10 similar products, and the next night, on which a share of the lists changed.

A night is kept as catalog positions (`Night`) and rendered to the recommender's file layout
(`customer_lists`, `similar_lists`), so the next night differs only in the lists that changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from dagster_project.demo_exports.catalog import CATEGORIES, build_catalog
from dagster_project.demo_exports.timeline import Timeline
from ml.nightly_files import scoring_timestamp
from ml.recommendations.similar_products import BOUGHT_TOGETHER, LIKED_BY_SAME_CUSTOMERS, SAME_CATEGORY

LIST_LENGTH = 10
VERSION = "20260601T021500-3f9c2a7e"  # a champion ranker's version, as the registry names them
OPTED_OUT_SHARE = 0.05  # customers served the shop's list (opted out of personalization, or unknown taste)
# A personalized list's reasons: (kind, share); `_reasons` words each kind.
CUSTOMER_REASONS = ((0, 0.4), (1, 0.3), (2, 0.1), (3, 0.2))
SHOP_REASON = 4
SIMILAR_REASONS = (BOUGHT_TOGETHER, LIKED_BY_SAME_CUSTOMERS, SAME_CATEGORY)


@dataclass(frozen=True)
class Night:
    """One night's lists as catalog positions, one row per customer (or SKU), best first."""

    picks: np.ndarray  # (rows, 10) the products listed
    anchors: np.ndarray  # (rows, 10) the product a "bought together with" / "like the" reason names
    reasons: np.ndarray  # (rows, 10) reason kinds
    personalized: np.ndarray  # (rows,)


def demo_catalog(skus: int, seed: int = 5) -> pl.DataFrame:
    """`skus` variants of the demo generator's catalog: sku ("APP-0123-02"), title ("Juniper Hoodie - M"),
    category, and a long-tailed popularity `weight` summing to 1."""
    catalog = build_catalog(skus + skus // 10, Timeline(end_date=date(2026, 11, 30), days=365), np.random.default_rng(seed))
    variants = np.flatnonzero(np.array([sku is not None for sku in catalog.sku]))[:skus]
    weight = np.random.default_rng(seed).lognormal(0.0, 1.0, len(variants))
    return pl.DataFrame({"sku": catalog.sku[variants].astype(str), "title": catalog.line_item_name(variants).astype(str),
                         "category": np.array(CATEGORIES)[catalog.category[catalog.variant_product[variants]]],
                         "weight": weight / weight.sum()})


def first_night(rows: int, products: pl.DataFrame, rng: np.random.Generator, similar: bool = False) -> Night:
    """Lists for `rows` customers (or, `similar`, one per SKU of `products`, never the SKU itself)."""
    personalized = np.ones(rows, bool) if similar else rng.random(rows) >= OPTED_OUT_SHARE
    return _draw(personalized, products, rng, np.arange(rows) if similar else None)


def next_night(night: Night, products: pl.DataFrame, changed_share: float, rng: np.random.Generator,
               similar: bool = False) -> tuple[Night, int]:
    """The night after `night`: a `changed_share` of all lists drawn anew (personalized ones: the
    shop's list stays the same); and how many."""
    personalized = night.personalized
    changed = np.flatnonzero(personalized & (rng.random(len(personalized)) < changed_share / personalized.mean()))
    redrawn = _draw(night.personalized[changed], products, rng, changed if similar else None)
    picks, anchors, reasons = night.picks.copy(), night.anchors.copy(), night.reasons.copy()
    picks[changed], anchors[changed], reasons[changed] = redrawn.picks, redrawn.anchors, redrawn.reasons
    return Night(picks, anchors, reasons, night.personalized), len(changed)


def customer_lists(night: Night, products: pl.DataFrame, scored_on: date) -> pl.DataFrame:
    """The night in `write_recommendations`' layout, customers `cus_000000000`, `cus_000000001`, …"""
    rows = len(night.personalized)
    cells = _cells(night, products).select("sku", "title", _reasons())
    return pl.DataFrame({
        "customer_id": pl.select(pl.format("cus_{}", pl.int_range(rows).cast(pl.String).str.zfill(9))).to_series(),
        "event_timestamp": pl.repeat(scoring_timestamp(scored_on), rows, eager=True),
        "recommended_skus": _lists(cells["sku"], rows), "recommended_titles": _lists(cells["title"], rows),
        "recommendation_reasons": _lists(cells["reason"], rows), "recommendations_personalized": night.personalized,
        "recommender_version": pl.repeat(VERSION, rows, eager=True)})


def similar_lists(night: Night, products: pl.DataFrame, scored_on: date) -> pl.DataFrame:
    """The night in `write_similar_products`' layout, one row per SKU of `products`."""
    rows = products.height
    cells = _cells(night, products).select("sku", "title", pl.col("kind").replace_strict(
        dict(enumerate(SIMILAR_REASONS)), return_dtype=pl.String).alias("reason"))
    return pl.DataFrame({
        "sku": products["sku"], "event_timestamp": pl.repeat(scoring_timestamp(scored_on), rows, eager=True),
        "similar_skus": _lists(cells["sku"], rows), "similar_titles": _lists(cells["title"], rows),
        "similar_reasons": _lists(cells["reason"], rows), "recommender_version": pl.repeat(VERSION, rows, eager=True)})


def _draw(personalized: np.ndarray, products: pl.DataFrame, rng: np.random.Generator, itself: np.ndarray | None) -> Night:
    rows, weight = len(personalized), products["weight"].to_numpy()
    picks = _distinct_picks(rows, weight, rng, itself)
    anchors = rng.choice(len(weight), size=(rows, LIST_LENGTH), p=weight)
    if itself is not None:
        reasons = rng.integers(0, len(SIMILAR_REASONS), size=(rows, LIST_LENGTH))
    else:
        kinds, shares = zip(*CUSTOMER_REASONS)
        reasons = rng.choice(kinds, size=(rows, LIST_LENGTH), p=shares)
        picks[~personalized] = np.argsort(-weight)[:LIST_LENGTH]  # the shop's best sellers
        reasons[~personalized] = SHOP_REASON
    return Night(picks, anchors, reasons, personalized)


def _distinct_picks(rows: int, weight: np.ndarray, rng: np.random.Generator, itself: np.ndarray | None) -> np.ndarray:
    """10 distinct products per row by popularity, in the order drawn; a row's own product excluded."""
    picks = np.empty((rows, LIST_LENGTH), np.int64)
    todo = np.arange(rows)
    while len(todo):
        draws = rng.choice(len(weight), size=(len(todo), 2 * LIST_LENGTH), p=weight)
        order = np.argsort(draws, axis=1, kind="stable")
        ordered = np.take_along_axis(draws, order, 1)
        first = np.ones(draws.shape, bool)
        first[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
        keep = np.empty(draws.shape, bool)
        np.put_along_axis(keep, order, first, 1)
        if itself is not None:
            keep &= draws != itself[todo][:, None]
        enough = keep.sum(axis=1) >= LIST_LENGTH
        positions = np.argsort(~keep, axis=1, kind="stable")[:, :LIST_LENGTH]
        picks[todo[enough]] = np.take_along_axis(draws, positions, 1)[enough]
        todo = todo[~enough]
    return picks


def _cells(night: Night, products: pl.DataFrame) -> pl.DataFrame:
    """One row per list position: sku, title, category, the anchor's title, the reason kind."""
    picks, anchors = pl.Series(night.picks.ravel()), pl.Series(night.anchors.ravel())
    return pl.DataFrame({"sku": products["sku"].gather(picks), "title": products["title"].gather(picks),
                         "category": products["category"].gather(picks), "anchor": products["title"].gather(anchors),
                         "kind": night.reasons.ravel()})


def _reasons() -> pl.Expr:
    """A customer's reasons worded as ml.recommendations words them (co-purchase, content, popularity)."""
    kind = pl.col("kind")
    return (pl.when(kind == 0).then(pl.format("bought together with {}", "anchor"))
            .when(kind == 1).then(pl.format("matches your interest in {}", "category"))
            .when(kind == 2).then(pl.format("like the {} you bought", "anchor"))
            .when(kind == 3).then(pl.lit("popular in your country"))
            .otherwise(pl.lit("popular right now")).alias("reason"))


def _lists(cells: pl.Series, rows: int) -> pl.Series:
    return cells.reshape((rows, LIST_LENGTH)).cast(pl.List(pl.String))
