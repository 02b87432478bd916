"""How products change after they are created: launch, price changes and sales, stock-outs and
restocks, archiving.

Each change is a new version of the product; the products export re-issues the product in the
file of the day it changed, and orders buy only what is active and in stock that day, at that
day's price.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from dagster_project.demo_exports.catalog import Catalog, shop_price
from dagster_project.demo_exports.timeline import Timeline

DRAFT, ACTIVE, ARCHIVED = "draft", "active", "archived"
SALES_PER_YEAR = 1.5  # a sale marks the price down for one to four weeks
PRICE_CHANGES_PER_YEAR = 0.4  # lasting increases of 3-12%
STOCKOUTS_PER_YEAR = 3.0  # for a product of median popularity; restocked 3-25 days later


@dataclass(frozen=True)
class ProductHistory:
    """Every version of every product in (product, day, change) order, with the state after it."""

    product: np.ndarray
    day: np.ndarray
    status: np.ndarray
    price_factor: np.ndarray
    """The regular price relative to the launch price."""
    sale_factor: np.ndarray
    """The sale price relative to the regular price; 1 when not on sale."""
    out_of_stock: np.ndarray
    stock_units: np.ndarray
    """Units on hand across the product's variants (0 or below, oversold, when out of stock)."""
    span: int
    """Days in the simulation: `product * span + day` orders versions by product, then day."""

    def version_at(self, product: np.ndarray, day: np.ndarray) -> np.ndarray:
        """The version in force on each day (its last change of the day); -1 before the product exists."""
        keys = self.product * self.span + self.day
        index = np.searchsorted(keys, np.asarray(product) * self.span + np.asarray(day), side="right") - 1
        exists = (index >= 0) & (self.product[np.maximum(index, 0)] == product)
        return np.where(exists, index, -1)

    def is_sellable(self, product: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Active and in stock on the day."""
        version = self.version_at(product, day)
        safe = np.maximum(version, 0)
        return (version >= 0) & (self.status[safe] == ACTIVE) & ~self.out_of_stock[safe]

    def prices_cents(self, catalog: Catalog, variant: np.ndarray, version: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The price charged and the regular price of each variant in a version (equal when not on sale)."""
        base = catalog.base_price_cents[variant]
        ends_in_99 = base % 100 == 99
        safe = np.maximum(version, 0)
        regular = np.where(version >= 0, shop_price(base * self.price_factor[safe], ends_in_99), base)
        charged = np.where(self.sale_factor[safe] < 1, shop_price(regular * self.sale_factor[safe], ends_in_99), regular)
        return charged, regular


def _poisson_days(start: np.ndarray, end: np.ndarray, per_year: np.ndarray | float,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Products and days of events at `per_year` while each product is live (`start` to `end`)."""
    length = np.maximum(end - start, 0)
    count = rng.poisson(per_year * length / 365)
    product = np.repeat(np.arange(len(start)), count)
    return product, start[product] + (rng.random(len(product)) * length[product]).astype(np.int64)


def _events(product: np.ndarray, day: np.ndarray, rank: int, status: str | None = None, price_change: np.ndarray | float = 1.0,
            sale_factor: np.ndarray | float | None = None, out_of_stock: bool | None = None) -> pl.DataFrame:
    """Changes of `product` on `day` (`rank` orders a day's changes) and the state each sets; None
    leaves a part of the state as it was (filled forward)."""
    n = len(product)
    sale = np.full(n, np.nan) if sale_factor is None else np.broadcast_to(np.asarray(sale_factor, dtype=float), n)
    return pl.DataFrame({
        "product": product.astype(np.int64), "day": day.astype(np.int64), "rank": np.full(n, rank),
        "status": pl.Series([status] * n, dtype=pl.String),
        "price_change": np.broadcast_to(np.asarray(price_change, dtype=float), n),
        "sale_factor": pl.Series(sale, dtype=pl.Float64, nan_to_null=True),
        "out_of_stock": pl.Series([out_of_stock] * n, dtype=pl.Boolean),
    })


def simulate_product_history(catalog: Catalog, timeline: Timeline, rng: np.random.Generator) -> ProductHistory:
    """Draw every change of every product, from its creation as a draft to its archiving."""
    n = len(catalog.handle)
    launch, archive = catalog.launch_day, catalog.archive_day
    everyone = np.arange(n)
    archived = np.flatnonzero(archive < timeline.total_days)
    priced, priced_on = _poisson_days(launch, archive, PRICE_CHANGES_PER_YEAR, rng)
    sale, sale_on = _poisson_days(launch, archive, SALES_PER_YEAR, rng)
    sale_off = sale_on + rng.integers(7, 29, size=len(sale))
    rate = STOCKOUTS_PER_YEAR * np.clip(catalog.popularity / np.median(catalog.popularity), 0.3, 3.0) * catalog.is_tracked
    short, short_on = _poisson_days(launch, archive, rate, rng)
    restocked_on = short_on + rng.integers(3, 26, size=len(short))
    events = pl.concat([
        _events(everyone, catalog.created_day, 0, status=DRAFT),
        _events(everyone, launch, 1, status=ACTIVE),
        _events(priced, priced_on, 2, price_change=rng.uniform(1.03, 1.12, size=len(priced))),
        _events(sale, sale_on, 3, sale_factor=rng.uniform(0.65, 0.85, size=len(sale))),
        _events(sale, sale_off, 3, sale_factor=1.0),
        _events(short, short_on, 4, out_of_stock=True),
        _events(short, restocked_on, 4, out_of_stock=False),
        _events(archived, archive[archived], 5, status=ARCHIVED),
    ])
    # Nothing changes once a product is archived (nor after the simulation ends).
    live = (events["day"].to_numpy() < archive[events["product"].to_numpy()]) | (events["rank"].to_numpy() == 5)
    events = events.filter(pl.Series(live) & (pl.col("day") < timeline.total_days)).sort(["product", "day", "rank"], maintain_order=True).with_columns(
        pl.col("status").forward_fill().over("product"),
        pl.col("price_change").cum_prod().over("product").alias("price_factor"),
        pl.col("sale_factor").forward_fill().over("product").fill_null(1.0),
        pl.col("out_of_stock").forward_fill().over("product").fill_null(False),
    )
    product = events["product"].to_numpy()
    out_of_stock = events["out_of_stock"].to_numpy()
    on_hand = rng.poisson(np.maximum(3.0, 25.0 * catalog.popularity[product] / np.median(catalog.popularity))) + 1
    oversold = np.where(rng.random(len(product)) < 0.2, -rng.integers(1, 4, size=len(product)), 0)
    return ProductHistory(
        product=product, day=events["day"].to_numpy(), status=events["status"].to_numpy().astype(object),
        price_factor=events["price_factor"].to_numpy(), sale_factor=events["sale_factor"].to_numpy(),
        out_of_stock=out_of_stock, stock_units=np.where(out_of_stock, oversold, on_hand), span=timeline.total_days + 1,
    )
