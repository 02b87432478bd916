"""Everything simulated for one run, before anything is written."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from dagster_project.demo_exports.campaigns import Campaign, schedule_campaigns
from dagster_project.demo_exports.catalog import DEFAULT_CATALOG_SKUS, Catalog, build_catalog, skip_former_catalog_draws
from dagster_project.demo_exports.crm_contacts import build_contacts
from dagster_project.demo_exports.delivery import DeliverySchedule, plan_deliveries
from dagster_project.demo_exports.email_events import EmailOutcome, simulate_email_events
from dagster_project.demo_exports.email_recipients import Recipients, build_recipients
from dagster_project.demo_exports.erasure import choose_erasures, erasure_times
from dagster_project.demo_exports.experiment_log import AssignmentLog, log_assignments
from dagster_project.demo_exports.experiment_outcomes import potential_outcomes, realize_world
from dagster_project.demo_exports.experiments import Experiment, add_potential_purchases, plan_experiment
from dagster_project.demo_exports.fx_rates import FxRates, as_known_to_the_platform, simulate_fx_rates
from dagster_project.demo_exports.identities import assign_identities
from dagster_project.demo_exports.lifecycle import Lifecycles, simulate_lifecycles
from dagster_project.demo_exports.name_pools import build_pools
from dagster_project.demo_exports.order_buyers import SHOP_DOMAIN, attach_buyers
from dagster_project.demo_exports.order_versions import plan_order_versions
from dagster_project.demo_exports.orders import Orders, build_orders
from dagster_project.demo_exports.population import draw_population
from dagster_project.demo_exports.product_history import ProductHistory, simulate_product_history
from dagster_project.demo_exports.record_corruption import RecordCorruption, add_compound_surnames
from dagster_project.demo_exports.shopper_taste import Taste, draw_taste, stated_interest_masks
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
    catalog: Catalog
    product_history: ProductHistory
    taste: Taste
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
    experiment: Experiment
    experiment_outcomes: pl.DataFrame  # per audience member: both potential outcomes
    assignment_log: AssignmentLog


COMPOUND_SURNAME_SHARE = 0.03


def simulate_world(customers: int, timeline: Timeline, rng: np.random.Generator,
                   corruption: RecordCorruption = RecordCorruption(), catalog_skus: int = DEFAULT_CATALOG_SKUS) -> World:
    """Draw people, live their lives, and derive every source system's records, in a fixed order.

    The slips of `corruption` and the product catalog (its products, their changes, people's taste
    for them, the products each order line buys) come from streams of their own, so their rates and
    size change no other draw. The experiment has a stream of its own too; the purchases it adds or
    removes change the orders and what is drawn after them."""
    slip_rng, product_rng = rng.spawn(2)
    # A third child, spawned apart: spawning leaves the draws of rng and of the first two as they were.
    (experiment_rng,) = rng.spawn(1)
    schedule = plan_deliveries(timeline.days, rng, {"products": product_rng, "experiments": experiment_rng})
    skip_former_catalog_draws(rng)
    catalog = build_catalog(catalog_skus, timeline, product_rng)
    product_history = simulate_product_history(catalog, timeline, product_rng)
    people = draw_population(customers, timeline, rng)
    per_country = dict(people["country"].value_counts(sort=True).iter_rows())
    people = assign_identities(people, build_pools(per_country, rng), timeline, rng)
    people = people.with_columns(pl.Series("last_name", add_compound_surnames(
        people["last_name"].to_numpy(), people["country"].to_numpy(),
        COMPOUND_SURNAME_SHARE * (corruption.compound_surname_part > 0), slip_rng), dtype=pl.String))
    life = simulate_lifecycles(people, timeline, rng)
    fx = simulate_fx_rates(timeline, rng)
    published_fx = as_known_to_the_platform(fx, timeline, schedule)
    # Stated interests have a stream of their own: the catalog's size changes no CRM record.
    taste_rng, interest_rng = product_rng.spawn(2)
    taste = draw_taste(catalog, customers, taste_rng)
    people = people.with_columns(pl.Series("stated_interest_mask",
                                           stated_interest_masks(people["interest_mask"].to_numpy(), interest_rng)))
    # Orders are built for both arms' worlds, the outcomes read off, and only the realized world
    # kept before anything else reads the orders.
    experiment = plan_experiment(people, life, timeline, experiment_rng)
    potential_life, purchase_world = add_potential_purchases(life, experiment, people, timeline, experiment_rng)
    priced = build_orders(people, potential_life, catalog, product_history, published_fx, timeline, rng, product_rng,
                          taste)
    potential_versions = plan_order_versions(priced.orders, rng)
    outcomes = potential_outcomes(experiment, priced, potential_versions, purchase_world, potential_life, timeline)
    realized, order_versions, life = realize_world(experiment, priced, potential_versions, purchase_world,
                                                   potential_life)
    orders = Orders(attach_buyers(realized.orders, people, rng, corruption, slip_rng), realized.lines)
    contacts = build_contacts(people, timeline, rng, corruption, slip_rng)
    erasures = choose_erasures(people, life, orders.orders, timeline, rng)
    erased_at = erasure_times(erasures, customers)
    recipients = build_recipients(contacts, orders.orders, erased_at, rng)
    campaigns = schedule_campaigns(timeline, SHOP_DOMAIN, rng)
    email = simulate_email_events(recipients, campaigns, orders.orders, people, life.death_day, timeline, rng)
    tickets, ticket_updates = build_tickets(life, timeline, erased_at, rng)
    tickets, requesters = assign_requesters(tickets, people, rng)
    assignment_log = log_assignments(experiment, people, contacts, erased_at, timeline, schedule, experiment_rng)
    return World(timeline, schedule, people, life, catalog, product_history, taste, fx, published_fx, orders, order_versions, contacts, erasures,
                 erased_at, recipients, campaigns, email, tickets, ticket_updates, requesters, experiment, outcomes,
                 assignment_log)
