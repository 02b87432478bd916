"""The latent model leaves the signal and the defects the platform is meant to find."""

from __future__ import annotations

import polars as pl

from tests.demo_exports.demo_export_contract import daily_files, read_csv_records, read_jsonl


def test_people_with_a_higher_purchase_rate_buy_more(demo_dir):
    people = pl.read_parquet(demo_dir / "_truth/people.parquet").sort("lambda_per_year")
    third = people.height // 3
    low, high = people.head(third), people.tail(third)
    assert high["purchases_next_365d"].mean() > 2 * low["purchases_next_365d"].mean()


def test_bad_support_experiences_raise_dropout(demo_dir):
    people = pl.read_parquet(demo_dir / "_truth/people.parquet")
    unlucky = people.filter(pl.col("bad_tickets_in_window") > 0)
    assert unlucky.height > 0
    assert (unlucky["p_dropout_at_end"] > unlucky["p_dropout"]).all()


def test_some_webhook_events_are_delivered_twice(demo_dir):
    ids = [e["sg_event_id"] for p in daily_files(demo_dir, "email", "events").values() for e in read_jsonl(p)]
    assert len(ids) > len(set(ids))


def test_some_opens_are_machine_opens(demo_dir):
    files = daily_files(demo_dir, "email", "events").values()
    opens = [e for p in files for e in read_jsonl(p) if e["event"] == "open"]
    machine = sum(e["sg_machine_open"] for e in opens)
    assert 0 < machine < len(opens)


def test_some_guest_orders_have_no_email(demo_dir):
    files = daily_files(demo_dir, "ecommerce", "orders").values()
    firsts = [r for p in files for r in read_csv_records(p) if r["Name"]]
    guests = [r for r in firsts if r["Email"] == ""]
    assert 0 < len(guests) < 0.3 * len(firsts)
    assert all(r["Billing Name"] for r in guests)


def test_some_people_have_several_crm_contacts(demo_dir):
    records = pl.read_parquet(demo_dir / "_truth/source_records.parquet").filter(pl.col("source") == "crm_contact")
    per_person = records.group_by("person_id").len()
    assert (per_person["len"] > 1).any()


def test_crm_emails_are_sometimes_messy(demo_dir):
    emails = [r["Email"] for p in daily_files(demo_dir, "crm", "contacts").values() for r in read_csv_records(p)]
    assert any(e != e.strip().lower() for e in emails if e)
    assert any(e == "" for e in emails)
