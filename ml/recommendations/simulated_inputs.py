"""Recommendation inputs straight from a simulated world (its purchases up to the last extract
date, the catalog as it stands then, every person as a customer), as the warehouse marts would hold
them: tests and benches run the whole engine on data with taste in it without the pipeline."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from dagster_project.demo_exports.catalog import CATEGORIES
from dagster_project.demo_exports.population import interests_text
from dagster_project.demo_exports.world import World
from ml.recommendations.inputs import RecommendationInputs


def inputs_from_world(world: World) -> RecommendationInputs:
    """Purchases up to the last extract date, the catalog as it stands then, and every person as a customer."""
    timeline, catalog, history = world.timeline, world.catalog, world.product_history
    last = timeline.last_window_day
    orders = world.orders.orders.filter(~pl.col("is_test") & (pl.col("sim_day") <= last)).select(
        "order_index", "person_index", "created_at")
    lines = world.orders.lines.join(orders, on="order_index", how="inner")
    person_id = world.people["person_id"].to_numpy()
    purchases = pl.DataFrame({
        "customer_id": person_id[lines["person_index"].to_numpy()], "sku": lines["sku"],
        "ordered_at": pl.from_epoch(lines["created_at"], time_unit="s"), "quantity": lines["quantity"],
        "is_returned": False})
    variants = np.flatnonzero(np.array([sku is not None for sku in catalog.sku]))
    product = catalog.variant_product[variants]
    archived = catalog.archive_day[product] <= last
    products = pl.DataFrame({
        "sku": catalog.sku[variants].astype(str), "title": catalog.line_item_name(variants).astype(str),
        "category": np.array(CATEGORIES)[catalog.category[product]], "vendor": catalog.vendor[product].astype(str),
        "product_type": catalog.kind_noun[product].astype(str), "tags": [[] for _ in variants],
        "price": catalog.base_price_cents[variants] / 100, "is_archived": archived,
        "is_published": ~catalog.is_hidden[product] & (catalog.launch_day[product] <= last),
        "is_in_stock": history.is_sellable(product, np.full(len(product), last)) | archived,
        "first_seen_date": [timeline.sim_start + dt.timedelta(days=int(d)) for d in catalog.created_day[product]]})
    people = world.people
    customers = pl.DataFrame({
        "customer_id": person_id,
        "interests": [interests_text(int(m)).split(";") if stated else []
                      for m, stated in zip(people["stated_interest_mask"], people["states_interests"])],
        "country_code": people["country"], "is_personalization_withheld": False})
    as_of = dt.datetime.combine(timeline.sim_start, dt.time()) + dt.timedelta(days=last + 1)
    return RecommendationInputs.of(purchases, products, customers, as_of)
