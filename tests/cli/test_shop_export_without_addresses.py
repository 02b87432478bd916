"""The export that once crashed identity: Shopify orders alone, a name and an email per buyer, no
billing address or phone, with enough orders that Splink trains on them."""

import pytest

from dagster_project.demo_exports import generate_demo_exports
from tests.cli.landing_shapes import ADDRESS_AND_PHONE, blank_columns, keep_sources, run_shape
from tests.conftest import query

pytestmark = pytest.mark.slow


def test_a_shop_whose_orders_carry_no_address_or_phone_trains_on_what_it_has(tmp_path_factory, cxp_home, monkeypatch):
    """The export that once crashed identity: Shopify orders alone, a name and an email per buyer,
    with enough orders to train Splink, which must not choose an EM key that pairs nothing."""
    landing = tmp_path_factory.mktemp("shop") / "landing"
    generate_demo_exports(landing, customers=1500, days=90, seed=8)
    keep_sources(landing, "ecommerce", "_truth")
    blank_columns(landing, "ecommerce/orders_*.csv", ADDRESS_AND_PHONE)
    outcome = run_shape(landing, monkeypatch)

    nodes = query(cxp_home / "warehouse.duckdb", "select count(*) from intermediate.int_identity_nodes")[0][0]
    assert nodes >= 1000, "too few orders to exercise training"
    assert outcome.identity_note.startswith("Splink model trained"), outcome.identity_note
    assert "no birthdate, address, phone in the data" in outcome.identity_note
    assert {"crm_contacts", "email_events", "support_tickets"} <= set(outcome.absent_sources)
