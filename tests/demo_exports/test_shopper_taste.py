"""The demo world has taste a recommender can learn: item-level preferences, complements bought
after their product, consumables re-bought on their cycle, and stated interests that mostly hold."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from dagster_project.demo_exports.repeat_purchases import COMPLEMENT_WINDOW_DAYS
from dagster_project.demo_exports.timeline import Timeline
from dagster_project.demo_exports.world import World, simulate_world


@pytest.fixture(scope="module")
def world() -> World:
    return simulate_world(3_000, Timeline(end_date=dt.date(2024, 3, 31), days=365), np.random.default_rng(11))


@pytest.fixture(scope="module")
def bought(world: World) -> pl.DataFrame:
    """Every line bought by a person: person, order, day, product, variant index."""
    catalog = world.catalog
    variant_of_sku = {sku: k for k, sku in enumerate(catalog.sku) if sku is not None}
    orders = world.orders.orders.filter(~pl.col("is_test")).select("order_index", "person_index", "sim_day")
    lines = world.orders.lines.join(orders, on="order_index", how="inner")
    variant = np.array([variant_of_sku[s] for s in lines["sku"]])
    return lines.with_columns(pl.Series("variant", variant), pl.Series("product", catalog.variant_product[variant]))


def test_people_buy_products_that_suit_their_taste(world: World, bought: pl.DataFrame):
    taste = world.taste
    person, product = bought["person_index"].to_numpy(), bought["product"].to_numpy()
    own = taste.affinity(person, product).mean()
    # The same products bought by someone else: popularity and category held, taste broken.
    shuffled = taste.affinity(np.random.default_rng(0).permutation(person), product).mean()
    assert own > shuffled + 0.15


def test_consumables_are_rebought_about_a_cycle_later(world: World, bought: pl.DataFrame):
    rebuy = world.taste.rebuy_days
    consumables = bought.filter(pl.Series(rebuy[bought["product"].to_numpy()] > 0))
    gaps = (consumables.sort("sim_day").group_by("person_index", "variant")
            .agg(pl.col("sim_day").diff().drop_nulls().alias("gap"), pl.col("product").first())
            .explode("gap").drop_nulls("gap"))
    assert gaps.height > 100
    ratio = gaps["gap"].to_numpy() / rebuy[gaps["product"].to_numpy()]
    # Mostly within the due window (0.8 to 3 cycles), rarely sooner.
    assert np.mean((ratio >= 0.8) & (ratio <= 3)) > 0.6
    assert np.mean(ratio < 0.5) < 0.15


def test_a_complement_follows_its_product_more_often_than_chance(world: World, bought: pl.DataFrame):
    complements = world.taste.complements
    orders = (bought.group_by("order_index", maintain_order=True)
              .agg(pl.col("person_index").first(), pl.col("sim_day").first(), pl.col("product"))
              .sort("sim_day", "order_index"))
    previous = orders.with_columns(pl.col("product").shift(1).over("person_index").alias("before"),
                                   pl.col("sim_day").diff().over("person_index").alias("gap"))
    follow = previous.filter(pl.col("before").is_not_null() & (pl.col("gap") <= COMPLEMENT_WINDOW_DAYS))
    rng = np.random.default_rng(1)
    hits, chance = 0, 0
    random_orders = orders["product"].to_list()
    for now, before in zip(follow["product"], follow["before"]):
        wanted = {int(c) for p in before for c in complements[p] if c >= 0}
        hits += bool(wanted & set(now))
        chance += bool(wanted & set(random_orders[int(rng.integers(len(random_orders)))]))
    assert hits > 100
    assert hits > 4 * chance


def test_stated_interests_mostly_but_not_always_match_the_true_ones(world: World):
    true, stated = world.people["interest_mask"].to_numpy(), world.people["stated_interest_mask"].to_numpy()
    same = np.mean(true == stated)
    assert 0.6 < same < 0.85
    # What people state still names a favourite category almost always.
    assert np.mean((true & stated) > 0) > 0.97


def test_the_truth_records_future_purchases_and_product_relations(tmp_path):
    from dagster_project.demo_exports import generate_demo_exports

    generate_demo_exports(tmp_path, seed=5, end_date=dt.date(2024, 3, 31), customers=400, days=30)
    future = pl.read_parquet(tmp_path / "_truth/future_purchases.parquet")
    assert future.height > 0
    assert future["days_after_window"].min() >= 1
    assert future["purchased_date"].min() > dt.date(2024, 3, 31)
    people = pl.read_parquet(tmp_path / "_truth/people.parquet")
    assert set(future["person_id"]) <= set(people["person_id"])
    assert {"taste", "stated_interests"} <= set(people.columns)
    products = pl.read_parquet(tmp_path / "_truth/product_taste.parquet")
    tents = products.filter(pl.col("kind") == "Tent")
    assert tents.height > 0 and tents["complement_handles"].list.len().min() >= 1
    assert set(products.filter(pl.col("rebuy_days") > 0)["kind"]) >= {"Face Serum"}
