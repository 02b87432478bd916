"""The ground truth covers every exported record and describes every person."""

from __future__ import annotations

import polars as pl
import pytest

from tests.demo_exports.demo_export_contract import daily_files, parse_iso_utc, read_csv_records, read_jsonl


@pytest.fixture(scope="module")
def records(demo_dir) -> pl.DataFrame:
    return pl.read_parquet(demo_dir / "_truth/source_records.parquet")


@pytest.fixture(scope="module")
def people(demo_dir) -> pl.DataFrame:
    return pl.read_parquet(demo_dir / "_truth/people.parquet")


def _keys(records: pl.DataFrame, source: str) -> set[str]:
    return set(records.filter(pl.col("source") == source)["source_key"].to_list())


def _exported(demo_dir) -> dict[str, set[str]]:
    keys: dict[str, set[str]] = {s: set() for s in ("crm_contact", "shopify_order", "sendgrid_recipient",
                                                     "zendesk_requester", "zendesk_ticket")}
    for path in daily_files(demo_dir, "crm", "contacts").values():
        keys["crm_contact"] |= {r["Contact ID"] for r in read_csv_records(path)}
    for path in daily_files(demo_dir, "ecommerce", "orders").values():
        keys["shopify_order"] |= {r["Id"] for r in read_csv_records(path)}
    for path in daily_files(demo_dir, "email", "events").values():
        keys["sendgrid_recipient"] |= {e["email"] for e in read_jsonl(path)}
    for path in daily_files(demo_dir, "support", "tickets").values():
        tickets = read_jsonl(path)
        keys["zendesk_ticket"] |= {str(t["id"]) for t in tickets}
        keys["zendesk_requester"] |= {str(t["requester"]["id"]) for t in tickets}
    return keys


def test_every_exported_key_has_exactly_one_truth_row_and_nothing_else_does(demo_dir, records):
    for source, keys in _exported(demo_dir).items():
        assert _keys(records, source) == keys, source
    assert records.select("source", "source_key").is_duplicated().sum() == 0


def test_only_staff_test_orders_belong_to_nobody(demo_dir, records):
    tests = set()
    for path in daily_files(demo_dir, "ecommerce", "orders").values():
        tests |= {r["Id"] for r in read_csv_records(path) if "test" in r["Tags"].split(", ")}
    nobody = set(records.filter(pl.col("person_id").is_null())["source_key"].to_list())
    assert nobody == tests


def test_every_record_points_at_a_known_person(records, people):
    assert set(records["person_id"].drop_nulls().to_list()) <= set(people["person_id"].to_list())


def test_people_table_has_one_row_per_person_with_latent_and_future_columns(people):
    assert people.height == 300 and people["person_id"].is_unique().all()
    for column in ("lambda_per_year", "p_dropout", "spend_mean_usd", "email_engagement", "acquisition_date",
                   "is_alive_at_end", "country", "birthdate", "email", "email_opt_out_at_end",
                   "personalization_opt_out_at_end", "purchases_next_30d", "purchases_next_90d",
                   "purchases_next_365d", "revenue_usd_next_365d"):
        assert column in people.columns, column
    assert (people["purchases_next_30d"] <= people["purchases_next_90d"]).all()
    assert (people["purchases_next_90d"] <= people["purchases_next_365d"]).all()


def test_erasure_requests_name_people_by_an_email_they_use(demo_dir, people):
    requests = pl.read_parquet(demo_dir / "_truth/erasure_requests.parquet").join(people, on="person_id")
    assert requests.height >= 1
    assert requests.select((pl.col("email") == pl.col("email_right")) | (pl.col("email") == pl.col("alternative_email"))
                           ).to_series().all()


def test_truth_readme_is_written(demo_dir):
    assert "source_records.parquet" in (demo_dir / "_truth/README.md").read_text(encoding="utf-8")


def test_nothing_newer_than_an_erasure_request_is_exported_about_its_person(demo_dir, records):
    requests = pl.read_parquet(demo_dir / "_truth/erasure_requests.parquet")
    for person_id, received_at in requests.select("person_id", "received_at").iter_rows():
        mine = records.filter(pl.col("person_id") == person_id)
        contacts = set(mine.filter(pl.col("source") == "crm_contact")["source_key"].to_list())
        addresses = set(mine.filter(pl.col("source") == "sendgrid_recipient")["source_key"].to_list())
        tickets = set(mine.filter(pl.col("source") == "zendesk_ticket")["source_key"].to_list())
        cutoff = received_at.timestamp()
        for path in daily_files(demo_dir, "crm", "contacts").values():
            for row in read_csv_records(path):
                if row["Contact ID"] in contacts:
                    assert parse_iso_utc(row["Last Modified Date"]).timestamp() <= cutoff
        for path in daily_files(demo_dir, "email", "events").values():
            assert all(e["timestamp"] <= cutoff for e in read_jsonl(path) if e["email"] in addresses)
        for path in daily_files(demo_dir, "support", "tickets").values():
            assert all(parse_iso_utc(t["updated_at"]).timestamp() <= cutoff
                       for t in read_jsonl(path) if str(t["id"]) in tickets)
