"""What each shopper likes beyond categories: item-level taste, the complements one purchase leads
to, and the consumables re-bought on a cycle. This is the structure a recommender should find;
without it, the best anyone could do in the demo world is popularity within a category."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dagster_project.demo_exports.catalog import CATEGORIES, Catalog
from dagster_project.demo_exports.catalog_vocabulary import COMPLEMENTS, REBUY_DAYS

TASTE_DIMENSIONS = 6
SERIES_STYLE = 0.6
"""How much of a product's taste vector its product line sets: a Juniper fan likes Juniper things."""
MAX_COMPLEMENTS = 3
STATED_INTEREST_EXTRA = 0.2
"""Share of people whose stated CRM interests name a category they do not in fact favour."""
STATED_INTEREST_MISSING = 0.1
"""Share of people with two or more favourite categories who leave one of them out."""


@dataclass(frozen=True)
class Taste:
    """Latent preferences (people × dimensions, products × dimensions) and product relations."""

    person: np.ndarray
    product: np.ndarray
    complements: np.ndarray
    """Per product, up to three complement products (-1 pads)."""
    rebuy_days: np.ndarray
    """Per product, its re-buy cycle in days; 0 for a product that is not a consumable."""

    def affinity(self, person: np.ndarray, product: np.ndarray) -> np.ndarray:
        """Taste match of each person with each product (same shapes, or broadcastable)."""
        return np.einsum("...d,...d->...", self.person[person], self.product[product])


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.linalg.norm(matrix, axis=-1, keepdims=True)


def _complements(catalog: Catalog, rng: np.random.Generator) -> np.ndarray:
    """For each product, one product per complement kind, drawn by popularity among that kind's."""
    n = len(catalog.kind_noun)
    chosen = np.full((n, MAX_COMPLEMENTS), -1, dtype=np.int64)
    by_kind = {noun: np.flatnonzero(catalog.kind_noun == noun) for noun in np.unique(catalog.kind_noun)}
    for product in range(n):
        for slot, noun in enumerate(COMPLEMENTS.get(str(catalog.kind_noun[product]), ())[:MAX_COMPLEMENTS]):
            pool = by_kind.get(noun)
            if pool is None or len(pool) == 0:
                continue
            weights = catalog.popularity[pool]
            chosen[product, slot] = pool[int(np.searchsorted(np.cumsum(weights), rng.random() * weights.sum()))]
    return chosen


def draw_taste(catalog: Catalog, people: int, rng: np.random.Generator) -> Taste:
    """Unit taste vectors for people and products (a product's partly its line's), and its relations."""
    series, series_code = np.unique(catalog.series.astype(str), return_inverse=True)
    style = _unit_rows(rng.normal(size=(len(series), TASTE_DIMENSIONS)))
    own = _unit_rows(rng.normal(size=(len(catalog.series), TASTE_DIMENSIONS)))
    product = _unit_rows(SERIES_STYLE * style[series_code] + (1 - SERIES_STYLE) * own)
    person = _unit_rows(rng.normal(size=(people, TASTE_DIMENSIONS)))
    rebuy = np.array([REBUY_DAYS.get(str(noun), 0) for noun in catalog.kind_noun], dtype=np.int64)
    return Taste(person=person, product=product, complements=_complements(catalog, rng), rebuy_days=rebuy)


def stated_interest_masks(true_masks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The interests people tell the CRM: mostly their favourite categories, but some name one they
    do not favour and some leave one out (zero-party data is a signal, not the truth)."""
    n = len(true_masks)
    stated = true_masks.copy()
    extra = 1 << rng.integers(0, len(CATEGORIES), size=n)
    stated = np.where(rng.random(n) < STATED_INTEREST_EXTRA, stated | extra, stated)
    bits = np.array([bin(int(m)).count("1") for m in true_masks])
    lowest = true_masks & -true_masks
    return np.where((bits >= 2) & (rng.random(n) < STATED_INTEREST_MISSING), stated & ~lowest, stated)
