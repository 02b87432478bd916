"""Everything simulated for one run, before anything is written."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from dagster_project.demo_exports.campaigns import Campaign, schedule_campaigns
from dagster_project.demo_exports.catalog import build_catalog
from dagster_project.demo_exports.crm_contacts import build_contacts
from dagster_project.demo_exports.delivery import DeliverySchedule, plan_deliveries
from dagster_project.demo_exports.email_events import EmailOutcome, simulate_email_events
from dagster_project.demo_exports.email_recipients import Recipients, build_recipients
from dagster_project.demo_exports.erasure import choose_erasures, erasure_times
from dagster_project.demo_exports.fx_rates import FxRates, as_known_to_the_platform, simulate_fx_rates
from dagster_project.demo_exports.identities import assign_identities
from dagster_project.demo_exports.lifecycle import Lifecycles, simulate_lifecycles
from dagster_project.demo_exports.name_pools import build_pools
from dagster_project.demo_exports.order_buyers import SHOP_DOMAIN, attach_buyers
from dagster_project.demo_exports.order_versions import plan_order_versions
from dagster_project.demo_exports.orders import Orders, build_orders
from dagster_project.demo_exports.population import draw_population
from dagster_project.demo_exports.record_corruption import RecordCorruption, add_compound_surnames
from dagster_project.demo_exports.support_tickets import build_tickets
from dagster_project.demo_exports.timeline import Timeline
from dagster_project.demo_exports.zendesk_requesters import assign_requesters


@dataclass(frozen=True)
class World:
    """The simulated business: people, their behaviour, and each system's records of it."""

    timeline: Timeline
    schedule: DeliverySchedule
    people: pl.DataFrame
    life: Lifecycles
    fx: FxRates
    published_fx: FxRates
    orders: Orders
    order_versions: pl.DataFrame
    contacts: pl.DataFrame
    erasures: pl.DataFrame
    erased_at: np.ndarray
    recipients: Recipients
    campaigns: list[Campaign]
    email: EmailOutcome
    tickets: pl.DataFrame
    ticket_updates: pl.DataFrame
    requesters: pl.DataFrame


COMPOUND_SURNAME_SHARE = 0.03


def simulate_world(customers: int, timeline: Timeline, rng: np.random.Generator,
                   corruption: RecordCorruption = RecordCorruption()) -> World:
    """Draw people, live their lives, and derive every source system's records, in a fixed order.

    The slips of `corruption` come from a stream of their own, so their rates change no other draw."""
    (slip_rng,) = rng.spawn(1)
    schedule = plan_deliveries(timeline.days, rng)
    catalog = build_catalog(rng)
    people = draw_population(customers, timeline, rng)
    per_country = dict(people["country"].value_counts(sort=True).iter_rows())
    people = assign_identities(people, build_pools(per_country, rng), timeline, rng)
    people = people.with_columns(pl.Series("last_name", add_compound_surnames(
        people["last_name"].to_numpy(), people["country"].to_numpy(),
        COMPOUND_SURNAME_SHARE * (corruption.compound_surname_part > 0), slip_rng), dtype=pl.String))
    life = simulate_lifecycles(people, timeline, rng)
    fx = simulate_fx_rates(timeline, rng)
    published_fx = as_known_to_the_platform(fx, timeline, schedule)
    priced = build_orders(people, life, catalog, published_fx, timeline, rng)
    orders = Orders(attach_buyers(priced.orders, people, rng, corruption, slip_rng), priced.lines)
    order_versions = plan_order_versions(orders.orders, rng)
    contacts = build_contacts(people, timeline, rng, corruption, slip_rng)
    erasures = choose_erasures(people, life, orders.orders, timeline, rng)
    erased_at = erasure_times(erasures, customers)
    recipients = build_recipients(contacts, orders.orders, erased_at, rng)
    campaigns = schedule_campaigns(timeline, SHOP_DOMAIN, rng)
    email = simulate_email_events(recipients, campaigns, orders.orders, people, life.death_day, timeline, rng)
    tickets, ticket_updates = build_tickets(life, timeline, erased_at, rng)
    tickets, requesters = assign_requesters(tickets, people, rng)
    return World(timeline, schedule, people, life, fx, published_fx, orders, order_versions, contacts, erasures,
                 erased_at, recipients, campaigns, email, tickets, ticket_updates, requesters)
