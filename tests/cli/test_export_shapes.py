"""Every export the contract allows runs end to end and says what it could not do.

Each shape is cut from a small generated landing the way real businesses deliver less: one
source alone, no emails, no phones or birth dates, a single day, ten records, a day of empty
files (a shop whose orders carry no billing address or phone: test_shop_export_without_addresses).
Each goes through `cxp run`'s pipeline (`run_pipeline`), for real."""

import csv
import shutil
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from dagster_project.demo_exports import generate_demo_exports
from ml.model_catalog import MODELS
from tests.cli.landing_shapes import blank_columns, empty_last_day, keep_days, keep_sources, no_emails, run_shape, ten_records
from tests.conftest import query

pytestmark = pytest.mark.slow(minutes=4)

SHAPES: dict[str, Callable[[Path], None]] = {
    "crm_only": lambda landing: keep_sources(landing, "crm"),
    "no_emails": no_emails,
    "no_phones_or_birthdates": lambda landing: (
        blank_columns(landing, "crm/*.csv", ["Phone", "Birthdate"]),
        blank_columns(landing, "ecommerce/orders_*.csv", ["Billing Phone"]),
    ),
    "single_day": lambda landing: keep_days(landing, 1),
    "ten_records": ten_records,
    "empty_last_day": empty_last_day,
}


@pytest.fixture(scope="module")
def generated_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    landing = tmp_path_factory.mktemp("generated") / "landing"
    generate_demo_exports(landing, customers=150, days=30, seed=5)
    return landing


@pytest.mark.parametrize("shape", SHAPES)
def test_each_contract_valid_shape_runs_and_says_what_it_could_not_do(shape, generated_landing, cxp_home, monkeypatch):
    landing = cxp_home.parent / "landing"
    shutil.copytree(generated_landing, landing, ignore=shutil.ignore_patterns("_truth"))
    SHAPES[shape](landing)
    outcome = run_shape(landing, monkeypatch)

    customers = query(cxp_home / "warehouse.duckdb", "select count(*) from marts.dim_customers")[0][0]
    assert customers > 0
    # Too few records here to train a match model: the run says so rather than pretending.
    assert outcome.identity_note.startswith("deterministic rules only"), outcome.identity_note
    assert "too few" in outcome.identity_note
    # Models that cannot train on so little history say why.
    assert any("not trained" in note for note in outcome.model_notes), outcome.model_notes
    # A score served to no one is named with its reason, never left as silent nulls.
    scores = pl.read_parquet(sorted((cxp_home / "features" / "customer_scores").glob("2*/data_0.parquet"))[-1])
    may_be_scored = scores.filter(pl.col("personalization_allowed"))
    unserved = [column for column in (*(spec.score for spec in MODELS.values()), "probability_alive")
                if may_be_scored[column].is_null().all()]
    scores_note = next((note for note in outcome.model_notes if note.startswith("scores: ")), "")
    assert all(f"{column} (" in scores_note for column in unserved), (unserved, outcome.model_notes)
    if shape in ("crm_only", "ten_records"):
        assert {"ecommerce_orders", "email_events", "support_tickets"} <= set(outcome.absent_sources)
        # Nobody bought: no purchase model to value anyone with, and the run says so.
        assert "expected_value_usd (no BG/NBD + Gamma-Gamma fit tonight: no customer in the rows has bought" in scores_note
    if shape == "ten_records":
        (contacts,) = landing.glob("crm/*.csv")
        with contacts.open(newline="", encoding="utf-8-sig") as file:
            contact_ids = {row["Contact ID"] for row in csv.DictReader(file)}
        quarantined = query(cxp_home / "warehouse.duckdb", "select count(*) from raw.quarantine")[0][0]
        nodes = query(cxp_home / "warehouse.duckdb", "select count(*) from intermediate.int_identity_nodes")[0][0]
        assert (nodes, quarantined) == (len(contact_ids), 0)

