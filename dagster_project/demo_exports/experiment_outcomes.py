"""Both potential outcomes of every experiment audience member, then the one world that happened.

Orders, line items and order versions are built for the purchases of both arms' worlds, so an
order that exists only in the world the person was not assigned to gets a real price, cancellation
and refund. After the outcomes are read off, only the realized world is kept, re-indexed, before
anything else looks at the orders.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl

from dagster_project.demo_exports.experiments import CONTROL_ONLY, IN_BOTH, TREATED_ONLY, Experiment, happens, window_end
from dagster_project.demo_exports.lifecycle import Lifecycles
from dagster_project.demo_exports.order_versions import order_net_revenue
from dagster_project.demo_exports.orders import Orders
from dagster_project.demo_exports.timeline import Timeline

PRE_PERIOD_DAYS = 365


def potential_outcomes(experiment: Experiment, orders: Orders, versions: pl.DataFrame, purchase_world: np.ndarray,
                       potential_life: Lifecycles, timeline: Timeline) -> pl.DataFrame:
    """Per audience member (in plan order): orders and net revenue (USD) in their 60-day window and
    net revenue from assignment to the last export day, in each arm's world; and their purchases in
    the 365 days before the assignment day (the same in both worlds)."""
    members = len(experiment.person)
    position = np.full(int(potential_life.death_day.shape[0]), -1)
    position[experiment.person] = np.arange(members)
    revenue = order_net_revenue(orders.orders, versions)
    order_index = revenue["order_index"].to_numpy()
    member = position[revenue["person_index"].to_numpy()]
    mine = member >= 0
    member, order_index = member[mine], order_index[mine]
    world = purchase_world[orders.orders["purchase_index"].to_numpy()[order_index]]
    created = revenue["created_at"].to_numpy()[mine]
    usd = revenue["revenue_usd"].to_numpy()[mine]
    since = created >= experiment.assigned_at[member]
    in_window = since & (created < window_end(experiment)[member])
    to_end = since & (created < timeline.window_end_epoch)

    def total(mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        summed = np.bincount(member[mask], weights=None if weights is None else weights[mask], minlength=members)
        return np.round(summed, 2) if weights is not None else summed.astype(np.int64)

    columns: dict[str, np.ndarray] = {}
    for arm_name, absent in (("control", TREATED_ONLY), ("treated", CONTROL_ONLY)):
        present = world != absent
        columns[f"orders_if_{arm_name}"] = total(in_window & present)
        columns[f"revenue_if_{arm_name}_usd"] = total(in_window & present, usd)
        columns[f"clv_realized_if_{arm_name}_usd"] = total(to_end & present, usd)
    buyer = position[potential_life.purchase_person]
    at = np.maximum(buyer, 0)
    # A stand-in last day keeps the indexing valid for an empty audience.
    day_of_assignment = np.append(timeline.sim_day_of(experiment.assigned_at), 0)
    before = ((buyer >= 0) & (potential_life.purchase_day < day_of_assignment[at])
              & (potential_life.purchase_day >= day_of_assignment[at] - PRE_PERIOD_DAYS))
    # The offer acts only after the assignment day, so earlier purchases happen in both worlds.
    assert (purchase_world[before] == IN_BOTH).all()
    columns["orders_365d_before"] = np.bincount(buyer[before], minlength=members).astype(np.int64)
    return pl.DataFrame(columns)


def realize_world(experiment: Experiment, orders: Orders, versions: pl.DataFrame, purchase_world: np.ndarray,
                  potential_life: Lifecycles) -> tuple[Orders, pl.DataFrame, Lifecycles]:
    """Keep the orders, line items, versions and purchases of the world that happened, re-indexed."""
    arm_of = np.full(int(potential_life.death_day.shape[0]) + 1, -1)  # the extra last entry: test orders
    arm_of[experiment.person] = experiment.arm
    purchase = orders.orders["purchase_index"].to_numpy()
    order_world = np.where(purchase >= 0, purchase_world[np.maximum(purchase, 0)], IN_BOTH)
    keep = happens(order_world, arm_of[orders.orders["person_index"].to_numpy()])
    new_index = np.cumsum(keep) - 1

    def reindexed(frame: pl.DataFrame) -> pl.DataFrame:
        old = frame["order_index"].to_numpy()
        return frame.filter(pl.Series(keep[old])).with_columns(pl.Series("order_index", new_index[old[keep[old]]]))

    realized = Orders(reindexed(orders.orders).drop("purchase_index"), reindexed(orders.lines))
    made = happens(purchase_world, arm_of[potential_life.purchase_person])
    life = dataclasses.replace(potential_life, purchase_person=potential_life.purchase_person[made],
                               purchase_day=potential_life.purchase_day[made])
    return realized, reindexed(versions), life
