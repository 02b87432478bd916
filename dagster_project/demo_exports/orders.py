"""Orders and their line items for every purchase from the window start on (the future ones feed the truth)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from dagster_project.demo_exports.catalog import CATEGORIES, DISCOUNT_CODES, Catalog
from dagster_project.demo_exports.fx_rates import FxRates
from dagster_project.demo_exports.lifecycle import Lifecycles
from dagster_project.demo_exports.population import SPEND_P, day_seconds
from dagster_project.demo_exports.product_choice import choose_variants
from dagster_project.demo_exports.product_history import ProductHistory
from dagster_project.demo_exports.repeat_purchases import add_follow_up_purchases
from dagster_project.demo_exports.shopper_taste import Taste
from dagster_project.demo_exports.timeline import Timeline

ORDER_SOURCES = np.array(["web", "pos", "iphone", "android", "shopify_draft_order"], dtype=object)
_SOURCE_SHARES = [0.55, 0.16, 0.14, 0.10, 0.05]
TEST_ORDER_SHARE = 0.005
TAX_RATE = {"US": 0.07, "CA": 0.13, "GB": 0.20, "DE": 0.19, "FR": 0.20}
_FIRST_ORDER_ID = 5_100_000_000_000


@dataclass(frozen=True)
class Orders:
    """Order headers (one row per order) and line items."""

    orders: pl.DataFrame
    lines: pl.DataFrame


def _interest_choices(mask: np.ndarray, pick: np.ndarray) -> np.ndarray:
    """A uniformly chosen category among the bits set in each interest mask."""
    table = [[bit for bit in range(len(CATEGORIES)) if m >> bit & 1] or [0] for m in range(1 << len(CATEGORIES))]
    counts = np.array([len(t) for t in table])
    padded = np.array([t + [t[0]] * (3 - len(t)) if len(t) <= 3 else t[:3] for t in table])
    return padded[mask, pick % np.minimum(counts[mask], 3)]


def _order_calendar(life: Lifecycles, timeline: Timeline,
                    rng: np.random.Generator) -> pl.DataFrame:
    """Purchases from the window start on plus staff test orders, in creation order; `purchase_index`
    is the order's purchase in `life` (-1 for a test order)."""
    keep = life.purchase_day >= timeline.first_window_day
    person, day = life.purchase_person[keep], life.purchase_day[keep]
    in_window = int((day <= timeline.last_window_day).sum())
    tests = max(1, int(rng.binomial(in_window, TEST_ORDER_SHARE))) if in_window else 0
    person = np.concatenate([person, np.full(tests, -1)])
    purchase = np.concatenate([np.flatnonzero(keep), np.full(tests, -1)])
    day = np.concatenate([day, rng.integers(timeline.first_window_day, timeline.last_window_day + 1, size=tests)])
    created_at = timeline.day_start_epoch(day) + day_seconds(rng, len(day), peak_hour=18.0)
    calendar = pl.DataFrame({"person_index": person, "purchase_index": purchase.astype(np.int64),
                             "created_at": created_at}).with_row_index("draw")
    calendar = calendar.sort(["created_at", "draw"]).drop("draw").with_row_index("order_index")
    # Order names continue the numbering of the orders placed before the window.
    earlier_orders = int((~keep).sum())
    gaps = rng.integers(1, 400, size=calendar.height)
    return calendar.with_columns(
        pl.col("order_index").cast(pl.Int64),
        pl.Series("order_id", _FIRST_ORDER_ID + np.cumsum(gaps)),
        pl.Series("order_name", [f"#{1001 + earlier_orders + k}" for k in range(calendar.height)]),
    )


def build_orders(people: pl.DataFrame, life: Lifecycles, catalog: Catalog, history: ProductHistory, fx: FxRates,
                 timeline: Timeline, rng: np.random.Generator, product_rng: np.random.Generator, taste: Taste) -> Orders:
    """Price every order from the buyer's latent spend, interests, currency and country; the
    products each line buys (by the buyer's `taste`, with re-buys and complements of earlier orders)
    are drawn from `product_rng`, so the catalog's size changes no other draw."""
    calendar = _order_calendar(life, timeline, rng)
    n = calendar.height
    person = calendar["person_index"].to_numpy()
    is_test = person < 0
    buyer = np.where(is_test, 0, person)
    home_country = np.where(is_test, "US", people["country"].to_numpy()[buyer])
    home_currency = np.where(is_test, "USD", people["currency"].to_numpy()[buyer])
    currency = np.where(rng.random(n) < 0.9, home_currency, "USD")
    sim_day = timeline.sim_day_of(calendar["created_at"].to_numpy())
    usd_per_unit = fx.rate_on(currency, sim_day)
    nu = people["spend_rate_nu"].to_numpy()[buyer]
    value_usd_cents = np.where(is_test, rng.gamma(2.0, 2000.0, size=n), rng.gamma(SPEND_P, 100.0 / nu))
    line_count = 1 + np.minimum(rng.poisson(0.7, size=n), 4)
    line_order = np.repeat(np.arange(n), line_count)
    line_no = np.arange(len(line_order)) - np.repeat(np.cumsum(line_count) - line_count, line_count)
    mask = people["interest_mask"].to_numpy()[buyer][line_order]
    category = np.where(rng.random(len(line_order)) < 0.75,
                        _interest_choices(mask, rng.integers(0, 6, size=len(line_order))),
                        rng.integers(0, len(CATEGORIES), size=len(line_order)))
    share = rng.gamma(2.0, 1.0, size=len(line_order))
    share /= np.bincount(line_order, weights=share)[line_order]
    target = value_usd_cents[line_order] * share
    line_day = sim_day[line_order]
    line_person = np.where(is_test, -1, person)[line_order]
    variant = choose_variants(catalog, history, category, target, line_day, product_rng, taste, line_person)
    variant = add_follow_up_purchases(catalog, history, taste, np.where(is_test, -1, person), sim_day, line_order,
                                      variant, product_rng)
    price_usd, _ = history.prices_cents(catalog, variant, history.version_at(catalog.variant_product[variant], line_day))
    quantity = np.clip(np.round(target / price_usd), 1, 3).astype(np.int64)
    price = np.round(price_usd / usd_per_unit[line_order]).astype(np.int64)
    lines_total = np.bincount(line_order, weights=price * quantity, minlength=n).astype(np.int64)
    code = np.where(rng.random(n) < 0.12, rng.integers(0, len(DISCOUNT_CODES), size=n), -1)
    percent = np.array([c[1] for c in DISCOUNT_CODES] + [0])[code]
    fixed = np.round(np.array([c[2] for c in DISCOUNT_CODES] + [0])[code] * 100 / usd_per_unit).astype(np.int64)
    discount = np.minimum(np.round(lines_total * percent / 100).astype(np.int64) + fixed, lines_total)
    subtotal = lines_total - discount
    source = np.where(is_test, "shopify_draft_order", rng.choice(ORDER_SOURCES, size=n, p=_SOURCE_SHARES))
    free_shipping = (source == "pos") | (code == 3) | (subtotal * usd_per_unit >= 7500)
    shipping = np.where(free_shipping, 0, np.round(795 / usd_per_unit)).astype(np.int64)
    taxes = np.round(subtotal * np.array([TAX_RATE[c] for c in home_country])).astype(np.int64)
    orders = calendar.with_columns(
        pl.Series("sim_day", sim_day),
        pl.Series("is_test", is_test),
        pl.Series("source", source, dtype=pl.String),
        pl.Series("currency", currency, dtype=pl.String),
        pl.Series("billing_country", home_country, dtype=pl.String),
        pl.Series("usd_per_unit", usd_per_unit),
        pl.Series("line_count", line_count),
        pl.Series("discount_code", [DISCOUNT_CODES[c][0] if c >= 0 else "" for c in code], dtype=pl.String),
        pl.Series("discount_cents", discount),
        pl.Series("subtotal_cents", subtotal),
        pl.Series("shipping_cents", shipping),
        pl.Series("tax_cents", taxes),
        pl.Series("total_cents", subtotal + shipping + taxes),
    )
    lines = pl.DataFrame({
        "order_index": line_order.astype(np.int64),
        "line_no": line_no.astype(np.int64),
        "quantity": quantity,
        "product_name": catalog.line_item_name(variant),
        "sku": catalog.sku[variant],
        "price_cents": price,
    }, schema_overrides={"product_name": pl.String, "sku": pl.String})
    return Orders(orders, lines)
