"""Which variant each order line buys: popular products most often (a long tail of the rest), in
the line's category, to the buyer's taste, near the price they mean to spend, and only what is on
sale that day."""

from __future__ import annotations

import numpy as np

from dagster_project.demo_exports.catalog import Catalog
from dagster_project.demo_exports.product_history import ProductHistory
from dagster_project.demo_exports.shopper_taste import Taste

CANDIDATES = 32
"""Variants drawn by popularity for each line; the buyer picks among those sellable by taste and price."""
TASTE_WEIGHT = 5.0
"""Weight of the taste match (a cosine in [-1, 1]) in a line's choice."""
PRICE_FIT = 2.0
"""Weight of the distance from the intended price (|log ratio|) in a line's choice."""
_ROUNDS = 10
_CHUNK_ROWS = 100_000


def _draw(weights: np.ndarray, pool: np.ndarray, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Variants of `pool` drawn with replacement in proportion to their weights."""
    cumulative = np.cumsum(weights[pool])
    picks = np.searchsorted(cumulative, rng.random(size) * cumulative[-1], side="right")
    return pool[np.minimum(picks, len(pool) - 1)]


def _preferred_sellable(catalog: Catalog, history: ProductHistory, candidates: np.ndarray, target_cents: np.ndarray,
                        day: np.ndarray, affinity: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per row, a sellable candidate drawn by its appeal (taste match, and a price near the target on a
    log scale) with Gumbel noise, so people mostly but not always pick what suits them; -1 when none is sellable."""
    days = np.broadcast_to(day[:, None], candidates.shape)
    product = catalog.variant_product[candidates]
    version = history.version_at(product, days)
    price, _ = history.prices_cents(catalog, candidates, version)
    appeal = TASTE_WEIGHT * affinity - PRICE_FIT * np.abs(np.log(price / target_cents[:, None]))
    appeal = appeal + rng.gumbel(size=appeal.shape)
    appeal[~history.is_sellable(product, days)] = -np.inf
    best = np.argmax(appeal, axis=1)
    rows = np.arange(len(candidates))
    return np.where(np.isfinite(appeal[rows, best]), candidates[rows, best], -1)


def _choose(catalog: Catalog, history: ProductHistory, candidates: np.ndarray, target_cents: np.ndarray,
            day: np.ndarray, person: np.ndarray, taste: Taste | None, rng: np.random.Generator) -> np.ndarray:
    """`_preferred_sellable` in chunks of rows, so a million people's lines fit in memory."""
    chosen = np.empty(len(candidates), dtype=np.int64)
    for start in range(0, len(candidates), _CHUNK_ROWS):
        rows = slice(start, start + _CHUNK_ROWS)
        cand = candidates[rows]
        if taste is None:
            affinity = np.zeros(cand.shape)
        else:
            who = np.broadcast_to(np.maximum(person[rows], 0)[:, None], cand.shape)
            affinity = np.where(person[rows, None] >= 0, taste.affinity(who, catalog.variant_product[cand]), 0.0)
        chosen[rows] = _preferred_sellable(catalog, history, cand, target_cents[rows], day[rows], affinity, rng)
    return chosen


def choose_variants(catalog: Catalog, history: ProductHistory, category: np.ndarray, target_cents: np.ndarray,
                    day: np.ndarray, rng: np.random.Generator, taste: Taste | None = None,
                    person: np.ndarray | None = None) -> np.ndarray:
    """The variant index each line buys (only variants with a SKU are sold): drawn by popularity,
    then chosen by the buyer's `taste` (`person` per line, -1 for none) and the price they mean to pay."""
    person = np.full(len(category), -1, dtype=np.int64) if person is None else person
    weights = np.where(np.array([sku is not None for sku in catalog.sku]), catalog.sales_weight, 0.0)
    variant_category = catalog.category[catalog.variant_product]
    chosen = np.full(len(category), -1, dtype=np.int64)
    for round_number in range(_ROUNDS + 1):
        open_rows = np.flatnonzero(chosen < 0)
        if len(open_rows) == 0:
            break
        # A category with nothing on sale that day: after the rounds, any category will do.
        anywhere = round_number == _ROUNDS
        for code in ([-1] if anywhere else np.unique(category[open_rows])):
            rows = open_rows if anywhere else open_rows[category[open_rows] == code]
            pool = np.flatnonzero((weights > 0) & (anywhere | (variant_category == code)))
            if len(pool) == 0:
                continue
            # The last round tries every variant: a small catalog can have little on sale some days.
            candidates = (np.broadcast_to(pool, (len(rows), len(pool))) if anywhere
                          else _draw(weights, pool, (len(rows), CANDIDATES), rng))
            chosen[rows] = _choose(catalog, history, candidates, target_cents[rows], day[rows], person[rows], taste, rng)
    if (chosen < 0).any():
        raise ValueError("nothing in the catalog is on sale on some day an order is placed: the catalog is too small")
    return chosen
