"""`cxp explain`: why records are one customer, read from a warehouse laid out as the pipeline leaves it."""

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from dagster_project.cli import main
from dagster_project.identity.identity_state import create_identity_tables

NODES = [
    # record_id, first_name, last_name, email, phone_e164, postcode, birthdate
    ("crm_contact:A", "ann", "lee", "ann@example.com", "+14155550101", "94607", "1980-02-03"),
    ("shopify_order:1", "ann", "lee", "ann@example.com", None, "94607", None),
    ("zendesk_requester:9", "ann", "lee", None, "+14155550101", None, None),
    ("crm_contact:B", "anne", "lee", None, None, "94607", "1980-02-03"),
    # Tom shares Ann's household landline, which was judged unsafe as proof of one person.
    ("crm_contact:T", "tom", "lee", None, "+14155550199", "94607", None),
    ("crm_contact:U", "ann", "lee", None, "+14155550199", "94607", None),
    # Kate's phone, trusted by the rules; the order signed "Worthy" only is Jeannette's, as her email spells.
    ("crm_contact:K", "kate", "worthy", None, "+14155550177", "94607", None),
    ("shopify_order:2", None, "worthy", "jeannetteworthy84@example.com", "+14155550177", "94607", None),
]
HOUSEHOLD = "kept apart: first name in the email different, birthdate missing, the shared phone is the household's"


@pytest.fixture
def warehouse(cxp_home: Path) -> Path:
    cxp_home.mkdir(parents=True)
    path = cxp_home / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("CREATE SCHEMA intermediate")
        connection.execute(
            "CREATE TABLE intermediate.int_identity_nodes (record_id VARCHAR, source VARCHAR, source_key VARCHAR, first_name VARCHAR, "
            "last_name VARCHAR, email VARCHAR, phone_e164 VARCHAR, street VARCHAR, postcode VARCHAR, city VARCHAR, "
            "country_code VARCHAR, birthdate DATE, last_seen_at TIMESTAMP)"
        )
        for record_id, first, last, email, phone, postcode, birthdate in NODES:
            source, key = record_id.split(":")
            connection.execute(
                "INSERT INTO intermediate.int_identity_nodes VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, NULL, 'US', ?, NULL)",
                [record_id, source, key, first, last, email, phone, postcode, birthdate],
            )
        connection.execute("CREATE TABLE intermediate.int_identity_edges_deterministic (record_id_l VARCHAR, record_id_r VARCHAR, match_type VARCHAR)")
        connection.execute(
            "INSERT INTO intermediate.int_identity_edges_deterministic VALUES "
            "('crm_contact:A', 'shopify_order:1', 'email'), ('crm_contact:A', 'zendesk_requester:9', 'phone'), "
            "('crm_contact:K', 'shopify_order:2', 'phone')"
        )
        connection.execute(
            "CREATE TABLE intermediate.int_identity_identifiers_assessed (identifier_type VARCHAR, identifier VARCHAR, "
            "record_count BIGINT, distinct_first_names BIGINT, distrust_reason VARCHAR, is_trusted BOOLEAN)"
        )
        connection.execute(
            "INSERT INTO intermediate.int_identity_identifiers_assessed VALUES "
            "('email', 'ann@example.com', 2, 1, NULL, true), ('phone', '+14155550101', 2, 1, NULL, true), "
            "('phone', '+14155550199', 2, 2, 'records with incompatible first names', false), ('phone', '+14155550177', 2, 1, NULL, true)"
        )
        create_identity_tables(connection)
        connection.execute(
            "CREATE TABLE identity.probabilistic_match_pairs (record_id_l VARCHAR, record_id_r VARCHAR, match_probability DOUBLE, "
            "match_weight DOUBLE, first_name_match_weight DOUBLE, birthdate_match_weight DOUBLE, postcode_match_weight DOUBLE, is_accepted BOOLEAN, decision VARCHAR, "
            "overrules_shared_phone BOOLEAN)"
        )
        connection.execute(
            "INSERT INTO identity.probabilistic_match_pairs VALUES "
            "('crm_contact:A', 'crm_contact:B', 0.998, 9.0, 4.5, 9.0, 5.5, true, 'accepted', false), "
            "('crm_contact:T', 'crm_contact:U', 0.2, -2.0, -6.0, 0.0, 4.0, false, 'below threshold', false), "
            "('crm_contact:K', 'shopify_order:2', 0.97, 5.0, 0.0, 0.0, 5.5, false, ?, true)", [HOUSEHOLD]
        )
        created, merged = datetime(2024, 3, 1), datetime(2024, 3, 2)
        for record_id in ("crm_contact:A", "shopify_order:1", "zendesk_requester:9", "crm_contact:B"):
            connection.execute("INSERT INTO identity.customer_id_assignments VALUES (?, 'cus_ann', ?)", [record_id, created])
        connection.execute("INSERT INTO identity.customer_id_assignments VALUES ('crm_contact:T', 'cus_tom', ?), ('crm_contact:U', 'cus_ann2', ?), "
                           "('crm_contact:K', 'cus_kate', ?), ('shopify_order:2', 'cus_kate', ?)", [created] * 4)
        connection.execute(
            "INSERT INTO identity.customer_id_events VALUES ('created', 'cus_ann', NULL, 3, ?), ('created', 'cus_old', NULL, 1, ?), "
            "('merged', 'cus_old', 'cus_ann', 4, ?)", [created, created, merged],
        )
        connection.execute("INSERT INTO identity.retired_customer_ids VALUES ('cus_old', 'cus_ann', ?)", [merged])
    return path


def explain(warehouse: Path, monkeypatch: pytest.MonkeyPatch, *args: str):
    monkeypatch.setenv("CXP_HOME", str(warehouse.parent))
    return CliRunner().invoke(main, ["explain", *args])


def test_a_customer_lists_its_records_each_link_with_its_rule_or_weights_and_its_history(warehouse, monkeypatch):
    result = explain(warehouse, monkeypatch, "customer", "cus_ann")
    assert result.exit_code == 0, result.output
    assert "Customer cus_ann: 4 record(s)" in result.output
    assert "crm_contact:A — shopify_order:1: same email ann@example.com (deterministic rule)" in result.output
    assert "crm_contact:A — zendesk_requester:9: same phone +14155550101 (deterministic rule)" in result.output
    assert "crm_contact:A — crm_contact:B: Splink match, probability 0.9980, total weight +9.00 (accepted)" in result.output
    assert [line.split() for line in result.output.splitlines() if line.strip().startswith(("birthdate", "postcode", "first_name", "(prior)"))] == [
        ["birthdate", "+9.00"], ["postcode", "+5.50"], ["first_name", "+4.50"], ["(prior)", "-10.00"],
    ]
    assert "absorbed cus_old (retired)" in result.output


def test_a_retired_id_is_explained_as_the_customer_that_absorbed_it(warehouse, monkeypatch):
    result = explain(warehouse, monkeypatch, "customer", "cus_old")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("cus_old was retired by a merge; its records now belong to cus_ann.")


def test_two_records_of_one_customer_are_explained_by_the_chain_of_links_that_joins_them(warehouse, monkeypatch):
    result = explain(warehouse, monkeypatch, "records", "shopify_order:1", "crm_contact:B")
    assert result.exit_code == 0, result.output
    assert "Same customer, joined by 2 accepted link(s):" in result.output
    assert "1. crm_contact:A — shopify_order:1: same email" in result.output
    assert "2. crm_contact:A — crm_contact:B: Splink match" in result.output
    assert "not scored by Splink: no blocking rule made them a candidate pair" in result.output


def test_records_sharing_a_distrusted_phone_are_explained_as_different_customers(warehouse, monkeypatch):
    result = explain(warehouse, monkeypatch, "records", "crm_contact:T", "crm_contact:U")
    assert result.exit_code == 0, result.output
    assert "Different customers: no chain of accepted links joins them." in result.output
    assert "shares phone +14155550199, not trusted as proof of one person: records with incompatible first names" in result.output
    assert "Splink match, probability 0.2000, total weight -2.00 (below threshold)" in result.output


def test_a_shared_phone_the_household_guard_overruled_is_shown_and_is_no_link(warehouse, monkeypatch):
    result = explain(warehouse, monkeypatch, "records", "crm_contact:K", "shopify_order:2")
    assert result.exit_code == 0, result.output
    assert f"same phone +14155550177 (deterministic rule, overruled: {HOUSEHOLD})" in result.output
    # Even where the two records hold one customer id (a warehouse of an older version), the
    # overruled phone is no link between them.
    assert "Same customer." in result.output and "accepted link(s)" not in result.output
    customer = explain(warehouse, monkeypatch, "customer", "cus_kate")
    assert customer.exit_code == 0, customer.output
    assert "Accepted links" not in customer.output


def test_an_unknown_record_or_customer_is_a_clear_error(warehouse, monkeypatch):
    result = explain(warehouse, monkeypatch, "records", "crm_contact:A", "shopify_order:404")
    assert result.exit_code == 1
    assert "Unknown record id(s): shopify_order:404" in result.output
    result = explain(warehouse, monkeypatch, "customer", "cus_nobody")
    assert result.exit_code == 1
    assert "No customer 'cus_nobody'" in result.output


# Libraries the pipeline needs and a link explanation does not: importing them took `cxp explain
# customer` from under a second to 5 s and more (Feast alone ~4 s); nothing here times the command
# (bench/explain.py does), this keeps them out.
_PIPELINE_LIBRARIES = ("feast", "dagster", "dagster_dbt", "dbt", "splink", "great_expectations", "sklearn", "xgboost", "scipy", "pandas")
_RUN_AND_LIST_IMPORTS = f"""
import sys
from dagster_project.cli.commands import main
main(sys.argv[1:], standalone_mode=False)
print("imported:", sorted(name for name in {_PIPELINE_LIBRARIES!r} if name in sys.modules))
"""


@pytest.mark.parametrize("arguments", [
    ["customer", "cus_ann"],
    ["records", "shopify_order:1", "crm_contact:B"],
])
def test_explaining_links_imports_none_of_the_pipeline_libraries(warehouse, arguments):
    # Its own interpreter: this test session has imported them all already.
    environment = {**os.environ, "CXP_HOME": str(warehouse.parent), "DAGSTER_HOME": str(warehouse.parent / "dagster")}
    finished = subprocess.run(
        [sys.executable, "-c", _RUN_AND_LIST_IMPORTS, "explain", *arguments], env=environment, capture_output=True, text=True, timeout=120,
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.splitlines()[-1] == "imported: []"
