"""Which variant each order line buys: popular products most often (a long tail of the rest), in
the line's category, near the price the buyer means to spend, and only what is on sale that day."""

from __future__ import annotations

import numpy as np

from dagster_project.demo_exports.catalog import Catalog
from dagster_project.demo_exports.product_history import ProductHistory

CANDIDATES = 6
"""Variants drawn by popularity for each line; the one nearest the target price among those sellable wins."""
_ROUNDS = 10


def _draw(weights: np.ndarray, pool: np.ndarray, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Variants of `pool` drawn with replacement in proportion to their weights."""
    cumulative = np.cumsum(weights[pool])
    picks = np.searchsorted(cumulative, rng.random(size) * cumulative[-1], side="right")
    return pool[np.minimum(picks, len(pool) - 1)]


def _nearest_sellable(catalog: Catalog, history: ProductHistory, candidates: np.ndarray, target_cents: np.ndarray,
                      day: np.ndarray) -> np.ndarray:
    """Per row, the sellable candidate whose price is nearest the target (on a log scale); -1 when none is sellable."""
    days = np.broadcast_to(day[:, None], candidates.shape)
    product = catalog.variant_product[candidates]
    version = history.version_at(product, days)
    price, _ = history.prices_cents(catalog, candidates, version)
    distance = np.abs(np.log(price / target_cents[:, None]))
    distance[~history.is_sellable(product, days)] = np.inf
    best = np.argmin(distance, axis=1)
    rows = np.arange(len(candidates))
    return np.where(np.isfinite(distance[rows, best]), candidates[rows, best], -1)


def choose_variants(catalog: Catalog, history: ProductHistory, category: np.ndarray, target_cents: np.ndarray,
                    day: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The variant index each line buys (only variants with a SKU are sold)."""
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
            chosen[rows] = _nearest_sellable(catalog, history, candidates, target_cents[rows], day[rows])
    if (chosen < 0).any():
        raise ValueError("nothing in the catalog is on sale on some day an order is placed: the catalog is too small")
    return chosen
