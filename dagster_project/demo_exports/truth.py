"""Ground truth under `_truth/`: who every record belongs to, and what each person is really like."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from dagster_project.demo_exports.experiment_truth import write_experiment_truth
from dagster_project.demo_exports.export_files import Written
from dagster_project.demo_exports.identities import ADDRESS_FIELDS
from dagster_project.demo_exports.order_versions import order_net_revenue
from dagster_project.demo_exports.population import interests_text
from dagster_project.demo_exports.product_truth import write_product_truth
from dagster_project.demo_exports.taste_truth import write_taste_truth
from dagster_project.demo_exports.truth_readme import TRUTH_README
from dagster_project.demo_exports.world import World

HORIZONS_DAYS = (30, 90, 365)


def _order_outcomes(world: World) -> pl.DataFrame:
    """Per order: buyer, simulation day, and net revenue in USD after cancellations and refunds."""
    return order_net_revenue(world.orders.orders, world.order_versions).select("person_index", "sim_day", "revenue_usd")


def _per_person(n: int, person: np.ndarray, mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    summed = np.bincount(person[mask], weights=None if weights is None else weights[mask], minlength=n)
    return summed if weights is not None else summed.astype(np.int64)


def person_classes(people: pl.DataFrame) -> np.ndarray:
    """Per person, the classes that test over-merging: a household with others, a namesake elsewhere."""
    head = people["household_head"].to_numpy()
    in_household = np.zeros(people.height, dtype=bool)
    in_household[head[head >= 0]] = True
    in_household |= head >= 0
    full_name = (people["first_name"].str.to_lowercase() + " " + people["last_name"].str.to_lowercase())
    namesake = full_name.is_duplicated().to_numpy()
    return np.array([",".join(c for c, on in (("household", h), ("namesake", s)) if on)
                     for h, s in zip(in_household, namesake)], dtype=object)


def source_records(world: World, written: Written) -> pl.DataFrame:
    """source, source_key, person_id (null for staff test orders), is_shared and record_classes for
    every exported record: its slips (`record_corruption` tags), `moved_address` when it shows its
    person's address after a move, and its person's `household` / `namesake` classes."""
    person_id = world.people["person_id"]
    classes_of_person = person_classes(world.people)

    def frame(source: str, keys, persons: np.ndarray, shared: np.ndarray, slips=None, moved=None) -> pl.DataFrame:
        names = person_id.to_numpy()[np.maximum(persons, 0)]
        ids = pl.Series([name if p >= 0 else None for name, p in zip(names, persons)], dtype=pl.String)
        n = len(persons)
        slips = [""] * n if slips is None else list(slips)
        moved = np.zeros(n, dtype=bool) if moved is None else np.asarray(moved)
        classes = [
            ",".join(sorted({*filter(None, own.split(",")), *(["moved_address"] if move else []),
                             *(filter(None, classes_of_person[p].split(",")) if p >= 0 else [])}))
            for own, move, p in zip(slips, moved, persons)
        ]
        return pl.DataFrame({"source": source, "source_key": pl.Series(keys).cast(pl.String),
                             "person_id": ids, "is_shared": shared,
                             "record_classes": pl.Series(classes, dtype=pl.String)})

    recipients = world.recipients
    sent = written.recipients
    requesters = (written.tickets.select("requester_id").unique(maintain_order=True)
                  .join(world.requesters, on="requester_id", how="left").sort("requester_id"))
    tickets = written.tickets.join(world.tickets.select("ticket_id", "person_index"), on="ticket_id", how="left",
                                   maintain_order="left")
    contacts, orders = written.contacts, written.orders
    return pl.concat([
        frame("crm_contact", contacts["Contact ID"], contacts["person_index"].to_numpy(),
              np.zeros(contacts.height, dtype=bool), contacts["corruptions"], contacts["shows_new_address"]),
        frame("shopify_order", orders["Id"], orders["person_index"].to_numpy(), np.zeros(orders.height, dtype=bool),
              orders["corruptions"].fill_null(""), orders["shows_new_address"].fill_null(False)),
        frame("sendgrid_recipient", recipients.email[sent].astype(str), recipients.person[sent],
              recipients.shared[sent]),
        frame("zendesk_requester", requesters["requester_id"], requesters["person_index"].to_numpy(),
              requesters["shared"].to_numpy()),
        frame("zendesk_ticket", tickets["ticket_id"], tickets["person_index"].to_numpy(),
              np.zeros(tickets.height, dtype=bool)),
    ])


def people_truth(world: World, records: pl.DataFrame) -> pl.DataFrame:
    """One row per person: identity, latent parameters, consent at the end, and future behaviour."""
    people, life, timeline = world.people, world.life, world.timeline
    n = people.height
    last = timeline.last_window_day
    day, buyer = life.purchase_day, life.purchase_person
    outcomes = _order_outcomes(world)
    o_person, o_day = outcomes["person_index"].to_numpy(), outcomes["sim_day"].to_numpy()
    revenue = outcomes["revenue_usd"].to_numpy()
    in_window = (life.ticket_day >= timeline.first_window_day) & (life.ticket_day <= last)
    unsubscribed = np.zeros(n, dtype=bool)
    unsubscribed[world.recipients.person[world.email.unsubscribed]] = True
    counts = records.filter(pl.col("person_id").is_not_null()).group_by("person_id").len()
    head = people["household_head"].to_numpy()
    sim_start = np.datetime64(timeline.sim_start)

    def opted_out(column: str) -> np.ndarray:
        at = people[column].to_numpy()
        return people["in_crm"].to_numpy() & (at >= 0) & (at < timeline.window_end_epoch)

    columns = {
        "purchases_before_window": _per_person(n, buyer, day < timeline.first_window_day),
        "purchases_in_window": _per_person(n, buyer, (day >= timeline.first_window_day) & (day <= last)),
        "revenue_usd_in_window": np.round(
            _per_person(n, o_person, (o_day >= timeline.first_window_day) & (o_day <= last), revenue), 2),
        "tickets_in_window": _per_person(n, life.ticket_person, in_window),
        "bad_tickets_in_window": _per_person(n, life.ticket_person, in_window & life.ticket_bad),
        "is_alive_at_end": life.death_day > last,
        "dropout_date": np.where(life.death_day < timeline.total_days,
                                 sim_start + np.minimum(life.death_day, timeline.total_days).astype("timedelta64[D]"),
                                 np.datetime64("NaT")),
        "p_dropout_at_end": life.p_dropout_at_end,
        "email_opt_out_at_end": opted_out("email_opt_out_at"),
        "personalization_opt_out_at_end": opted_out("personalization_opt_out_at"),
        "email_unsubscribed_at_end": unsubscribed,
        "erasure_requested": world.erased_at >= 0,
    }
    for horizon in HORIZONS_DAYS:
        ahead = (day > last) & (day <= last + horizon)
        columns[f"purchases_next_{horizon}d"] = _per_person(n, buyer, ahead)
        columns[f"revenue_usd_next_{horizon}d"] = np.round(
            _per_person(n, o_person, (o_day > last) & (o_day <= last + horizon), revenue), 2)
    return people.select(
        "person_id", "country", "currency", "first_name", "last_name", "email", "alternative_email",
        "email_is_shared",
        pl.concat_str([pl.lit("+"), pl.col("country").replace_strict(
            {"US": "1", "CA": "1", "GB": "44", "DE": "49", "FR": "33"}), pl.col("phone_national")]).alias("phone_e164"),
        "street", "apartment", "city", "province", "postcode",
        pl.when(pl.col("moved_at") >= 0).then(pl.from_epoch("moved_at", time_unit="s").dt.replace_time_zone("UTC"))
        .alias("moved_at"),
        *(pl.when(pl.col("moved_at") >= 0).then(pl.col(f"new_{field}")).alias(f"moved_to_{field}")
          for field in ADDRESS_FIELDS),
        pl.Series("household_id", [people["person_id"][int(h)] if h >= 0 else None for h in head], dtype=pl.String),
        "birthdate",
        pl.Series("acquisition_date", sim_start + people["acquisition_day"].to_numpy().astype("timedelta64[D]")),
        (pl.col("acquisition_day") < timeline.first_window_day).alias("acquired_before_window"),
        "in_crm", "buys_at_acquisition", "lambda_per_year", "p_dropout", "spend_mean_usd", "spend_rate_nu",
        "email_engagement", "apple_mail_privacy", "support_rate_per_year", "support_bad_prob",
        "preferred_channel", "lead_source",
        pl.col("interest_mask").map_elements(interests_text, return_dtype=pl.String).alias("interests"),
        pl.col("stated_interest_mask").map_elements(interests_text, return_dtype=pl.String).alias("stated_interests"),
        pl.Series("taste", world.taste.person.astype(np.float32)),
        *(pl.Series(name, values) for name, values in columns.items()),
    ).join(
        counts.rename({"len": "source_record_count"}), on="person_id", how="left", maintain_order="left"
    ).with_columns(
        pl.col("source_record_count").fill_null(0).cast(pl.Int64),
    ).with_columns((pl.col("source_record_count") > 0).alias("is_observed"))


def write_truth(world: World, written: Written, out: Path) -> int:
    """Write the truth tables and their README; return the number of files."""
    folder = out / "_truth"
    folder.mkdir(parents=True, exist_ok=True)
    records = source_records(world, written)
    records.write_parquet(folder / "source_records.parquet")
    people_truth(world, records).write_parquet(folder / "people.parquet")
    world.erasures.join(world.people.select("person_index", "person_id"), on="person_index", how="left",
                        maintain_order="left").select(
        "request_id", "person_id", "email",
        pl.from_epoch("received_at", time_unit="s").dt.replace_time_zone("UTC").alias("received_at"),
    ).write_parquet(folder / "erasure_requests.parquet")
    products = write_product_truth(world.catalog, world.product_history, world.timeline, folder)
    products += write_taste_truth(world, folder)
    products += write_experiment_truth(world, folder)
    (folder / "README.md").write_text(TRUTH_README, encoding="utf-8")
    return 4 + products
