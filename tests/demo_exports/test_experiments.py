"""The experiment: its assignment log follows the contract, the split is random, and the truth's
potential outcomes agree with the orders that were written."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats

from dagster_project.demo_exports import generate_demo_exports
from dagster_project.demo_exports.experiment_log import log_assignments
from dagster_project.demo_exports.order_versions import order_net_revenue
from dagster_project.demo_exports.timeline import SECONDS_PER_DAY, Timeline
from dagster_project.demo_exports.world import World, simulate_world
from tests.demo_exports.demo_export_contract import ASSIGNMENT_COLUMNS, ISO_UTC, daily_files, parse_shop_time, read_csv, read_csv_records

END_DATE = dt.date(2024, 6, 30)
CUSTOMERS, DAYS, SEED = 2_000, 200, 3
CONTACT_ID = re.compile(r"^0035g[0-9A-Za-z]{13}$")


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_demo_exports(tmp_path_factory.mktemp("experiment"), customers=CUSTOMERS, days=DAYS, seed=SEED,
                                 end_date=END_DATE).out_dir


@pytest.fixture(scope="module")
def world() -> World:
    """The world behind `out_dir`: the generator's seed and defaults."""
    return simulate_world(CUSTOMERS, Timeline(end_date=END_DATE, days=DAYS), np.random.Generator(np.random.PCG64(SEED)))


@pytest.fixture(scope="module")
def truth(out_dir: Path) -> pl.DataFrame:
    return pl.read_parquet(out_dir / "_truth/experiment_assignments.parquet")


@pytest.fixture(scope="module")
def effects(out_dir: Path) -> pl.DataFrame:
    return pl.read_parquet(out_dir / "_truth/experiment_effects.parquet")


@pytest.fixture(scope="module")
def log(out_dir: Path, truth: pl.DataFrame) -> pl.DataFrame:
    """Every exported row with its file's date and the person its id belongs to (null: nobody)."""
    rows = [{**row, "file_date": day.isoformat()} for day, path in daily_files(out_dir, "experiments", "assignments").items()
            for row in read_csv_records(path)]
    keys = truth.select("person_id", "arm", "in_two_arms", _key(pl.col("user_id")))
    return pl.DataFrame(rows).with_columns(_key(pl.col("user_id"))).join(keys, on="key", how="left",
                                                                         maintain_order="left")


def _key(user_id: pl.Expr) -> pl.Expr:
    """A Contact ID as it is; an email address trimmed and lower-cased."""
    is_contact = user_id.str.contains(CONTACT_ID.pattern)
    return pl.when(is_contact).then(user_id).otherwise(user_id.str.strip_chars().str.to_lowercase()).alias("key")


def _first_rows(log: pl.DataFrame) -> pl.DataFrame:
    return log.filter(pl.col("person_id").is_not_null()).sort("timestamp").group_by("person_id", maintain_order=True).first()


def test_every_file_has_the_contract_header_and_rows_in_its_formats(out_dir, log):
    for path in daily_files(out_dir, "experiments", "assignments").values():
        assert read_csv(path)[0] == ASSIGNMENT_COLUMNS, path
    assert log.height > 0
    assert log["timestamp"].str.contains(ISO_UTC.pattern).all()
    assert (log["user_id"] != "").all()
    assert log["experiment_id"].str.contains(r"^reactivation-offer-\d{4}$").all()
    assert set(log["variation_id"]) == {"control", "discount_15"}
    assert set(log["experiment_name"]) == {"", "Reactivation offer"}
    # A row lands in the file of the day it was logged, or the next delivered one after a failed export.
    assert (log["file_date"] >= log["timestamp"].str.slice(0, 10)).all()


def test_ids_are_email_addresses_or_contact_ids_some_typed_with_other_case_or_spaces(log):
    is_contact = log["user_id"].str.contains(CONTACT_ID.pattern)
    assert 0.05 < is_contact.mean() < 0.3
    emails = log.filter(~is_contact)["user_id"]
    assert emails.str.contains("@").all()
    assert 0 < (emails != emails.str.strip_chars().str.to_lowercase()).sum() < 0.1 * len(emails)


def test_arms_are_balanced(truth):
    treated = int((truth["arm"] == "discount_15").sum())
    assert stats.binomtest(treated, truth.height, 0.5).pvalue > 0.001


def test_the_split_does_not_depend_on_behaviour_before_the_start(out_dir, truth):
    people = pl.read_parquet(out_dir / "_truth/people.parquet").select("person_id", "lambda_per_year", "spend_mean_usd")
    joined = truth.join(people, on="person_id")
    for column in ("orders_365d_before", "lambda_per_year", "spend_mean_usd"):
        control = joined.filter(pl.col("arm") == "control")[column].to_numpy()
        treated = joined.filter(pl.col("arm") == "discount_15")[column].to_numpy()
        assert stats.mannwhitneyu(control, treated).pvalue > 0.001, column


def test_each_persons_first_exposure_is_their_arm_and_their_assignment_time(log, truth):
    first = _first_rows(log).join(truth.select("person_id", pl.col("arm").alias("truth_arm"), "assigned_at"),
                                  on="person_id")
    # Only a person erased before their exposure may be missing.
    assert truth.filter(~pl.col("erased")).join(first, on="person_id", how="anti").is_empty()
    assert (first["variation_id"] == first["truth_arm"]).all()
    assert (first["timestamp"] == first["assigned_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")).all()


def test_people_come_back_in_their_arm_and_only_the_flagged_ones_in_the_other(log, truth):
    arms = (log.filter(pl.col("person_id").is_not_null()).group_by("person_id")
            .agg(pl.col("variation_id").n_unique().alias("arms"), pl.len().alias("rows"), pl.col("in_two_arms").first()))
    assert ((arms["arms"] > 1) == arms["in_two_arms"]).all()
    assert 1 <= int(truth["in_two_arms"].sum()) <= 0.01 * truth.height
    repeated = arms.filter(~pl.col("in_two_arms"))["rows"] > 1
    assert 0.15 < repeated.mean() < 0.35


def test_ids_belong_to_their_person_or_are_the_planted_unknown_ones(out_dir, log, effects):
    people = pl.read_parquet(out_dir / "_truth/people.parquet")
    records = pl.read_parquet(out_dir / "_truth/source_records.parquet").filter(pl.col("source") == "crm_contact")
    owner = dict(zip(records["source_key"], records["person_id"]))
    # A CRM person is keyed by the address their contact holds, slips included (the tool syncs from the CRM).
    crm_addresses = {row["Email"].strip().lower(): owner[row["Contact ID"]]
                     for path in daily_files(out_dir, "crm", "contacts").values() for row in read_csv_records(path)
                     if row["Email"].strip() and row["Contact ID"] in owner}
    addresses = {**dict(zip(people["email"].str.to_lowercase(), people["person_id"])),
                 **dict(zip(people["alternative_email"].str.to_lowercase(), people["person_id"])), **crm_addresses}
    known = log.filter(pl.col("person_id").is_not_null())
    for key, person_id in zip(known["key"], known["person_id"]):
        assert (owner if CONTACT_ID.match(key) else addresses).get(key) == person_id, key
    unknown = log.filter(pl.col("person_id").is_null())
    assert unknown.height == effects["unknown_id_rows"][0] >= 1
    assert not set(unknown["key"]) & set(addresses)
    assert not set(unknown["key"]) & set(records["source_key"])


def test_orders_in_the_window_from_the_export_are_the_assigned_arms_potential_outcome(out_dir, truth):
    records = pl.read_parquet(out_dir / "_truth/source_records.parquet").filter(pl.col("source") == "shopify_order")
    created = {row["Id"]: parse_shop_time(row["Created at"])
               for path in daily_files(out_dir, "ecommerce", "orders").values()
               for row in read_csv_records(path) if row["Created at"]}
    orders = records.select("person_id", pl.col("source_key").replace_strict(created).alias("created_at"))
    window = (truth.filter(~pl.col("erased")).join(orders, on="person_id", how="left")
              .group_by("person_id", "arm", "orders_if_control", "orders_if_treated")
              .agg(((pl.col("created_at") >= pl.col("assigned_at"))
                    & (pl.col("created_at") < pl.col("assigned_at") + pl.duration(days=60))).sum().alias("exported")))
    realized = np.where(window["arm"] == "control", window["orders_if_control"], window["orders_if_treated"])
    assert window.height > 1000
    assert (window["exported"].to_numpy() == realized).all()


def test_revenue_in_the_world_is_the_assigned_arms_potential_outcome(world, truth):
    revenue = order_net_revenue(world.orders.orders, world.order_versions).join(
        truth.select("person_index", "arm", "assigned_at", "revenue_if_control_usd", "revenue_if_treated_usd",
                     "clv_realized_if_control_usd", "clv_realized_if_treated_usd"), on="person_index")
    since = pl.col("created_at") >= pl.col("assigned_at").dt.epoch("s")
    totals = revenue.group_by("person_index").agg(
        pl.col("revenue_usd").filter(since & (pl.col("created_at") < pl.col("assigned_at").dt.epoch("s")
                                              + 60 * SECONDS_PER_DAY)).sum().alias("window"),
        pl.col("revenue_usd").filter(since & (pl.col("created_at") < world.timeline.window_end_epoch)).sum().alias("to_end"),
        pl.col("arm").first(), pl.col("^.*_usd$").exclude("revenue_usd").first())
    control = totals["arm"] == "control"
    expected_window = np.where(control, totals["revenue_if_control_usd"], totals["revenue_if_treated_usd"])
    expected_to_end = np.where(control, totals["clv_realized_if_control_usd"], totals["clv_realized_if_treated_usd"])
    assert np.abs(totals["window"].to_numpy() - expected_window).max() < 0.01
    assert np.abs(totals["to_end"].to_numpy() - expected_to_end).max() < 0.01


def test_only_responders_have_outcomes_that_differ_between_the_arms(truth):
    differs = ((truth["orders_if_control"] != truth["orders_if_treated"])
               | (truth["revenue_if_control_usd"] != truth["revenue_if_treated_usd"]))
    assert differs.any()
    assert not (differs & ~truth["is_responder"]).any()
    assert ((truth["rate_multiplier"] != 0) == truth["is_responder"]).all()


def test_the_offer_raises_conversion_and_revenue_but_puts_the_most_frequent_buyers_off(truth, effects):
    effect = dict(zip(effects["metric"], effects["effect"]))
    assert effect["conversion"] > 0 and effect["revenue_per_customer"] > 0
    put_off = truth.filter(pl.col("rate_multiplier") < 0)
    assert 0.03 < put_off.height / truth["is_responder"].sum() < 0.2
    assert (put_off["orders_if_treated"] - put_off["orders_if_control"]).mean() < 0
    assert (put_off["revenue_if_treated_usd"] - put_off["revenue_if_control_usd"]).mean() < 0


def test_drawn_extra_orders_match_their_analytic_expectation(truth):
    helped = truth.filter(pl.col("rate_multiplier") > 0)
    extra = int((helped["orders_if_treated"] - helped["orders_if_control"]).sum())
    expected = float(helped["expected_incremental_orders"].sum())
    assert abs(extra - expected) < 4 * np.sqrt(expected)


def test_the_profile_effect_is_the_effect_before_the_responder_coin(truth):
    # Responders' effect is their profile's over the responder share; non-responders' profile effect is
    # what they would have had: the two sum to about the same over everyone.
    responders = truth.filter(pl.col("is_responder"))
    assert np.allclose(responders["profile_expected_incremental_orders"], 0.5 * responders["expected_incremental_orders"])
    total, profile = truth["expected_incremental_orders"].sum(), truth["profile_expected_incremental_orders"].sum()
    assert abs(total - profile) < 0.1 * abs(total)


def test_the_effects_table_counts_the_audience_and_the_defects(truth, effects, log):
    row = effects.row(0, named=True)
    assert set(effects["metric"]) == {"conversion", "repeat_purchase_rate", "retention", "revenue_per_customer",
                                      "average_order_value", "clv_realized"}
    assert row["audience"] == truth.height
    assert row["analyzable"] == truth["is_analyzable"].sum() == row["analyzable_control"] + row["analyzable_treated"]
    assert row["in_two_arms"] == truth["in_two_arms"].sum()
    # Every row in a person's own arm after their first is a repeated exposure.
    own_arm = log.filter(pl.col("variation_id") == pl.col("arm"))
    assert row["duplicate_exposure_rows"] == own_arm.height - own_arm["person_id"].n_unique() > 0


def test_nothing_is_logged_about_a_person_after_their_erasure(world):
    experiment = world.experiment
    erased_at = world.erased_at.copy()
    chosen = experiment.person[::25]
    erased_at[chosen] = experiment.assigned_at[::25] + 3 * SECONDS_PER_DAY
    rows = log_assignments(experiment, world.people, world.contacts, erased_at, world.timeline, world.schedule,
                           np.random.default_rng(0)).rows
    person = np.where(rows["member"].to_numpy() >= 0, experiment.person[np.maximum(rows["member"].to_numpy(), 0)], -1)
    cutoff = np.where(person >= 0, erased_at[np.maximum(person, 0)], -1)
    assert ((cutoff < 0) | (rows["at"].to_numpy() <= cutoff)).all()
    assert np.isin(chosen, person).any()
