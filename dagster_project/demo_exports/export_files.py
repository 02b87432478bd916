"""Writing the eight daily exports of a simulated world, and noting which records went out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from dagster_project.demo_exports import crm_export, shopify_export, shopify_products
from dagster_project.demo_exports.experiment_log import ASSIGNMENT_COLUMNS
from dagster_project.demo_exports.formats import iso_utc
from dagster_project.demo_exports.fx_rates import FX_COLUMNS, fx_rate_rows
from dagster_project.demo_exports.order_buyers import SHOP_DOMAIN
from dagster_project.demo_exports.webhook_delivery import random_tokens, schedule_webhooks
from dagster_project.demo_exports.webhook_json import make_pools, render_event_lines
from dagster_project.demo_exports.world import World
from dagster_project.demo_exports.writers import WriteLog, write_daily_csv, write_daily_jsonl
from dagster_project.demo_exports.zendesk_export import ticket_lines

ERASURE_COLUMNS = ["request_id", "email", "received_at"]


@dataclass(frozen=True)
class Written:
    """Keys of the records that reached the files, with their person, for the ground truth."""

    contacts: pl.DataFrame  # Contact ID, person_index, corruptions, shows_new_address
    orders: pl.DataFrame  # Id, person_index, corruptions, shows_new_address
    recipients: np.ndarray  # recipient indices that appear in events
    tickets: pl.DataFrame  # ticket_id, requester_id


def _days_where(rng: np.random.Generator, days: int, share: float) -> frozenset[int]:
    return frozenset(int(d) for d in np.flatnonzero(rng.random(days) < share))


def _write_crm(world: World, out: Path, log: WriteLog, rng: np.random.Generator) -> pl.DataFrame:
    rows = crm_export.contact_rows(world.contacts, world.people, world.timeline, world.schedule,
                                   world.erased_at, rng)
    title_from = int(rng.integers(world.timeline.days // 2, world.timeline.days))

    def columns(day: int) -> list[str]:
        return crm_export.CONTACT_COLUMNS + ([crm_export.EXTRA_COLUMN] if day >= title_from else [])

    # Salesforce's report export writes a byte-order mark on every file.
    write_daily_csv(out, "crm/contacts", rows, world.timeline, world.schedule, "crm", log, columns, lambda day: True)
    # A contact's slips are its own; whether it shows its person's new address, as its last version does.
    return rows.group_by("Contact ID", maintain_order=True).agg(
        pl.col("person_index").first(), pl.col("corruptions").first(), pl.col("shows_new_address").last()
    )


def _write_orders(world: World, out: Path, log: WriteLog, rng: np.random.Generator) -> pl.DataFrame:
    orders = world.orders.orders
    cutoff = world.erased_at[np.maximum(orders["person_index"].to_numpy(), 0)]
    cutoff = np.where(orders["person_index"].to_numpy() < 0, -1, cutoff)
    versions = world.order_versions
    version_cutoff = cutoff[versions["order_index"].to_numpy()]
    versions = versions.filter(pl.Series((version_cutoff < 0) | (versions["at"].to_numpy() <= version_cutoff)))
    rows = shopify_export.order_rows(orders, world.orders.lines, versions, world.timeline, world.schedule)
    extras = {name: _days_where(rng, world.timeline.days, 0.12) for name in shopify_export.EXTRA_COLUMNS}
    bom_days = _days_where(rng, world.timeline.days, 0.15)
    write_daily_csv(out, "ecommerce/orders", rows, world.timeline, world.schedule, "orders", log,
                    shopify_export.columns_on_day(extras), lambda day: day in bom_days)
    fx_rows = fx_rate_rows(world.fx, world.timeline)
    write_daily_csv(out, "ecommerce/fx_rates", fx_rows, world.timeline, world.schedule, "fx_rates", log,
                    lambda day: FX_COLUMNS)
    ids = rows.select("Id", "order_index").unique("Id", keep="first", maintain_order=True)
    return ids.join(orders.select("order_index", "person_index", "corruptions", "shows_new_address"), on="order_index",
                    how="left", maintain_order="left").drop("order_index")


def _write_products(world: World, out: Path, log: WriteLog) -> None:
    rows = shopify_products.product_rows(world.catalog, world.product_history, world.timeline, world.schedule)
    write_daily_csv(out, "ecommerce/products", rows, world.timeline, world.schedule, "products", log,
                    lambda day: shopify_products.PRODUCT_COLUMNS)


def _write_email(world: World, out: Path, log: WriteLog, rng: np.random.Generator) -> np.ndarray:
    posted = schedule_webhooks(world.email.events, world.erased_at[world.recipients.person], world.timeline,
                               world.schedule, rng)
    message_ids = random_tokens(world.email.message_count, rng) + ".filterdrecv-0"
    urls = [url for campaign in world.campaigns for url in campaign.urls] + [
        f"https://{SHOP_DOMAIN}/account/orders", f"https://{SHOP_DOMAIN}/account", f"https://{SHOP_DOMAIN}/"]
    pools = make_pools(world.recipients.email.tolist(), message_ids, [c.json_fragment for c in world.campaigns], urls)
    write_daily_jsonl(out, "email/events", posted, lambda part: render_event_lines(part, pools).to_list(),
                      world.timeline, world.schedule, "email", log, rng)
    return np.unique(posted["recipient"].to_numpy())


def _write_support(world: World, out: Path, log: WriteLog, rng: np.random.Generator) -> pl.DataFrame:
    lines = ticket_lines(world.tickets, world.ticket_updates, world.requesters, world.orders.orders,
                         world.timeline, world.schedule)
    write_daily_jsonl(out, "support/tickets", lines, lambda part: part["line"].to_list(),
                      world.timeline, world.schedule, "support", log, rng)
    return lines.select("ticket_id", "requester_id").unique("ticket_id", keep="first", maintain_order=True)


def _write_privacy(world: World, out: Path, log: WriteLog) -> None:
    requests = world.erasures.with_columns(
        pl.Series("extract_offset", world.timeline.window_offset(world.erasures["received_at"].to_numpy())),
        iso_utc(pl.col("received_at")).alias("received_at"),
    )
    write_daily_csv(out, "privacy/erasure_requests", requests, world.timeline, world.schedule, "privacy", log,
                    lambda day: ERASURE_COLUMNS)


def _write_experiments(world: World, out: Path, log: WriteLog) -> None:
    write_daily_csv(out, "experiments/assignments", world.assignment_log.rows, world.timeline, world.schedule,
                    "experiments", log, lambda day: ASSIGNMENT_COLUMNS)


def write_exports(world: World, out: Path, rng: np.random.Generator) -> tuple[WriteLog, Written]:
    """Write every export file of the window under `out`."""
    log = WriteLog()
    contacts = _write_crm(world, out, log, rng)
    orders = _write_orders(world, out, log, rng)
    _write_products(world, out, log)
    recipients = _write_email(world, out, log, rng)
    tickets = _write_support(world, out, log, rng)
    _write_privacy(world, out, log)
    _write_experiments(world, out, log)
    return log, Written(contacts, orders, recipients, tickets)
