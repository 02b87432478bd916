"""Purchases that follow from earlier ones: a consumable re-bought when it runs out, and a
complement of what the last order brought (the sleeping bag after the tent). Walked order by order
per person (all people at once for their n-th order), since each order's lines set up the next."""

from __future__ import annotations

import numpy as np

from dagster_project.demo_exports.catalog import Catalog
from dagster_project.demo_exports.product_history import ProductHistory
from dagster_project.demo_exports.shopper_taste import Taste

REBUY_SHARE = 0.7
"""Chance an order placed while a consumable is due (0.8 to 3 cycles after buying it) re-buys it."""
COMPLEMENT_SHARE = 0.35
"""Chance an order within `COMPLEMENT_WINDOW_DAYS` of the previous one brings a complement of it."""
COMPLEMENT_WINDOW_DAYS = 120
_REMEMBERED_LINES = 5


def _product_variant(catalog: Catalog, product: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A variant with a SKU of each product, drawn by the variants' sales weights (-1 when none has one)."""
    has_sku = np.array([sku is not None for sku in catalog.sku])
    weights = np.where(has_sku, catalog.sales_weight, 0.0)
    first = np.searchsorted(catalog.variant_product, product)
    last = np.searchsorted(catalog.variant_product, product, side="right")
    cumulative = np.r_[0.0, np.cumsum(weights)]
    total = cumulative[last] - cumulative[first]
    target = cumulative[first] + rng.random(len(product)) * total
    picked = np.clip(np.searchsorted(cumulative, target, side="right") - 1, first, last - 1)
    return np.where(total > 0, picked, -1)


def add_follow_up_purchases(catalog: Catalog, history: ProductHistory, taste: Taste, order_person: np.ndarray,
                            order_day: np.ndarray, line_order: np.ndarray, variant: np.ndarray,
                            rng: np.random.Generator) -> np.ndarray:
    """The variants of each line after re-buys (an order's first line) and complements (its last
    line); orders are in creation order, `order_person` -1 for staff test orders."""
    variant = variant.copy()
    first_line = np.searchsorted(line_order, np.arange(len(order_person)))
    last_line = np.searchsorted(line_order, np.arange(len(order_person)), side="right") - 1
    people = int(order_person.max()) + 1 if len(order_person) else 0
    consumable, consumable_day = np.full(people, -1), np.full(people, -1)
    previous, previous_day = np.full((people, _REMEMBERED_LINES), -1), np.full(people, -1)
    real = np.flatnonzero(order_person >= 0)
    rank = np.zeros(len(order_person), dtype=np.int64)
    rank[real] = _rank_within(order_person[real])
    for r in range(int(rank[real].max()) + 1 if len(real) else 0):
        orders = real[rank[real] == r]
        who, day = order_person[orders], order_day[orders]
        due = consumable[who] >= 0
        cycle = taste.rebuy_days[catalog.variant_product[np.maximum(consumable[who], 0)]]
        since = day - consumable_day[who]
        rebuy = due & (since >= 0.8 * cycle) & (since <= 3 * cycle) & (rng.random(len(orders)) < REBUY_SHARE)
        _replace(variant, first_line[orders[rebuy]], consumable[who[rebuy]], catalog, history, day[rebuy])
        remembered = np.maximum((previous[who] >= 0).sum(axis=1), 1)
        source = previous[who, (rng.random(len(orders)) * remembered).astype(np.int64)]
        pick = taste.complements[np.maximum(source, 0), rng.integers(0, taste.complements.shape[1], size=len(orders))]
        recent = (previous_day[who] >= 0) & (day - previous_day[who] <= COMPLEMENT_WINDOW_DAYS)
        follow = recent & (source >= 0) & (pick >= 0) & (rng.random(len(orders)) < COMPLEMENT_SHARE)
        follow &= ~rebuy | (last_line[orders] > first_line[orders])
        _replace(variant, last_line[orders[follow]], _product_variant(catalog, pick[follow], rng), catalog, history,
                 day[follow])
        _remember(variant, catalog, taste, orders, who, day, first_line, last_line, previous, previous_day,
                  consumable, consumable_day)
    return variant


def _rank_within(person: np.ndarray) -> np.ndarray:
    """0 for each person's first order, 1 for the second, … (orders given in creation order)."""
    order = np.argsort(person, kind="stable")
    sorted_person = person[order]
    starts = np.r_[0, np.flatnonzero(sorted_person[1:] != sorted_person[:-1]) + 1]
    ranks = np.arange(len(person)) - np.repeat(starts, np.diff(np.r_[starts, len(person)]))
    out = np.empty(len(person), dtype=np.int64)
    out[order] = ranks
    return out


def _replace(variant: np.ndarray, lines: np.ndarray, new: np.ndarray, catalog: Catalog, history: ProductHistory,
             day: np.ndarray) -> None:
    """Swap in the new variant where it exists and is on sale that day; otherwise keep the line's own."""
    ok = new >= 0
    ok[ok] = history.is_sellable(catalog.variant_product[new[ok]], day[ok])
    variant[lines[ok]] = new[ok]


def _remember(variant: np.ndarray, catalog: Catalog, taste: Taste, orders: np.ndarray, who: np.ndarray,
              day: np.ndarray, first_line: np.ndarray, last_line: np.ndarray, previous: np.ndarray,
              previous_day: np.ndarray, consumable: np.ndarray, consumable_day: np.ndarray) -> None:
    """Each person's latest order's products, and their latest consumable with the day it was bought."""
    previous[who] = -1
    previous_day[who] = day
    for k in range(_REMEMBERED_LINES):
        line = first_line[orders] + k
        has = line <= last_line[orders]
        product = catalog.variant_product[variant[line[has]]]
        previous[who[has], k] = product
        is_consumable = taste.rebuy_days[product] > 0
        consumable[who[has][is_consumable]] = variant[line[has]][is_consumable]
        consumable_day[who[has][is_consumable]] = day[has][is_consumable]
