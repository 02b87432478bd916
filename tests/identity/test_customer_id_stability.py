"""Customer ids survive nightly reruns through the real pipeline; a merge is recorded, not silent, and the marts follow it."""

import csv
import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.cli.run_pipeline import run_pipeline
from dagster_project.demo_exports import generate_demo_exports
from dagster_project.settings import load_settings
from tests.conftest import query
from tests.ingest.test_readers import CONTACT_HEADER

pytestmark = pytest.mark.slow(minutes=3)

ORDER_HEADER = (
    "Id,Name,Email,Financial Status,Paid at,Created at,Cancelled at,Fulfillment Status,Accepts Marketing,Currency,"
    "Subtotal,Shipping,Taxes,Total,Discount Amount,Refunded Amount,Discount Code,Lineitem quantity,Lineitem name,"
    "Lineitem price,Lineitem sku,Billing Name,Billing Street,Billing City,Billing Zip,Billing Province,Billing Country,"
    "Billing Phone,Tags,Source"
)
DANA = "0035g00000DaNaAAAV,Dana,Reyes,dana.reyes@example.com,(415) 555-0177,5 Elm St,Oakland,CA,94607,US,7/1/1985,Web,Email,,0,0,2024-03-04T09:00:00.000Z,2024-03-04T09:00:00.000Z,0"
# A guest order from Dana's work address and mobile: nothing ties it to her CRM contact yet.
DANA_AT_WORK = "2001,#2001,d.reyes@work.example,paid,,2024-03-05 10:00:00 -0800,,fulfilled,no,USD,20.00,0.00,0.00,20.00,0.00,0.00,,1,Hat,20.00,HT-1,Dana Reyes,1 Office Park,San Jose,95110,CA,US,(408) 555-0100,,web"
# Dana writes to support from her work address and gives her personal phone: one person after all.
DANA_TICKET = ('{"id":700,"created_at":"2024-03-06T08:00:00Z","updated_at":"2024-03-06T08:00:00Z","status":"new",'
               '"requester":{"id":88,"name":"Dana Reyes","email":"d.reyes@work.example","phone":"+1 415 555 0177"}}')


def deliver(landing: Path, relative: str, content: str) -> None:
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")


def ledger(warehouse: Path) -> list[tuple]:
    """cxp's own assignments (the personalization holdout), every row ever recorded."""
    return query(warehouse, "select experiment_id, customer_id, arm, assigned_at from measurement.assignments order by all")


def customer_of(warehouse: Path, record_id: str) -> str:
    return query(warehouse, f"select customer_id from identity.customer_id_assignments where record_id = '{record_id}'")[0][0]


def test_ids_survive_reruns_and_a_merge_keeps_the_older_id_with_a_mapping(cxp_home, monkeypatch):
    landing = cxp_home / "landing"
    monkeypatch.setenv("CXP_LANDING", str(landing))
    warehouse = cxp_home / "warehouse.duckdb"

    deliver(landing, "crm/contacts_2024-03-04.csv", f"{CONTACT_HEADER}\n{DANA}\n")
    assert run_pipeline(load_settings()).success
    dana = customer_of(warehouse, "crm_contact:0035g00000DaNaAAAV")
    (first_assignment,) = ledger(warehouse)
    assert first_assignment[:2] == ("personalization-holdout", dana)

    deliver(landing, "ecommerce/orders_2024-03-05.csv", f"{ORDER_HEADER}\n{DANA_AT_WORK}\n")
    assert run_pipeline(load_settings()).success
    work = customer_of(warehouse, "shopify_order:2001")
    assert customer_of(warehouse, "crm_contact:0035g00000DaNaAAAV") == dana != work
    night_2 = ledger(warehouse)
    assert first_assignment in night_2 and {row[1] for row in night_2} == {dana, work}
    from feature_repo.definitions import open_feature_store

    assert open_feature_store(load_settings()).get_online_features(
        features=["customer_purchase:orders_lifetime"], entity_rows=[{"customer_id": work}]).to_dict()["orders_lifetime"] == [1]

    deliver(landing, "support/tickets_2024-03-06.jsonl", DANA_TICKET + "\n")
    assert run_pipeline(load_settings()).success
    assert {customer_of(warehouse, r) for r in ("crm_contact:0035g00000DaNaAAAV", "shopify_order:2001", "zendesk_requester:88")} == {dana}
    assert query(warehouse, "select event_type, customer_id, related_customer_id from identity.customer_id_events "
                            "where event_type <> 'created'") == [("merged", work, dana)]
    assert query(warehouse, "select retired_customer_id, current_customer_id from identity.retired_customer_ids") == [(work, dana)]
    # The merge moves no assignment: the survivor keeps the one it had, and the ledger only ever grows.
    assert ledger(warehouse) == night_2
    assert query(warehouse, f"select arm from measurement.assignments where customer_id = '{dana}'") == [(first_assignment[2],)]

    # Downstream, the marts carry the survivor, and the retired id still leads to it.
    assert query(warehouse, f"select current_customer_id, is_retired from marts.customer_id_lookup where customer_id = '{work}'") == [(dana, True)]
    assert query(warehouse, "select customer_id from marts.fct_orders where order_id = 2001") == [(dana,)]
    assert query(warehouse, "select customer_id, first_name, last_name, email, sources from marts.dim_customers") == [
        (dana, "Dana", "Reyes", "dana.reyes@example.com", ["crm_contact", "shopify_order", "zendesk_requester"])
    ]
    assert query(warehouse, "select record_id, match_type from marts.customer_identity_map order by record_id") == [
        ("crm_contact:0035g00000DaNaAAAV", "phone"), ("shopify_order:2001", "email"), ("zendesk_requester:88", "email"),
    ]
    # Online, the retired id serves nothing stale; the survivor serves the order.
    from feature_repo.definitions import open_feature_store

    online = open_feature_store(load_settings()).get_online_features(
        features=["customer_purchase:orders_lifetime", "customer_support:tickets_lifetime"],
        entity_rows=[{"customer_id": work}, {"customer_id": dana}]).to_dict()
    assert online["orders_lifetime"] == [None, 1] and online["tickets_lifetime"] == [None, 1]


def test_one_more_day_of_demo_exports_changes_ids_only_through_recorded_merges_and_splits(cxp_home, monkeypatch, tmp_path):
    landing = cxp_home / "landing"
    monkeypatch.setenv("CXP_LANDING", str(landing))
    warehouse = cxp_home / "warehouse.duckdb"
    last_day = dt.date(2024, 3, 31)
    generate_demo_exports(landing, customers=300, days=30, seed=11, end_date=last_day)
    held_back = tmp_path / "held-back"
    # A day before the last on which both exports were delivered (the generator skips some days).
    day = next(day for day in (last_day - dt.timedelta(days=k) for k in range(1, 29))
               if (landing / f"crm/contacts_{day}.csv").exists() and (landing / f"ecommerce/orders_{day}.csv").exists())
    add_household_and_office_mailbox(landing, day)
    for path in landing.rglob(f"*_{last_day.isoformat()}.*"):
        target = held_back / path.relative_to(landing)
        target.parent.mkdir(parents=True, exist_ok=True)
        path.rename(target)
    assert run_pipeline(load_settings()).success
    with dg.DagsterInstance.get() as instance:
        matching = instance.get_latest_materialization_event(dg.AssetKey(["identity", "probabilistic_match_pairs"])).asset_materialization
    # The u sample the settings name (the suite's, from tests/conftest.py) is the one the asset uses.
    assert matching.metadata["u_sample_pairs"].value == load_settings().identity_u_sample_pairs == 1_000_000
    before = dict(query(warehouse, "select record_id, customer_id from identity.customer_id_assignments"))
    assignments_before = ledger(warehouse)
    # Over-merge guard of the deterministic rules (these ~660 records are too few for Splink to
    # train on): a shared household phone and a shared office mailbox join nobody.
    guarded = ["crm_contact:0035g00000HoUsAAA1", "crm_contact:0035g00000HoUsAAA2", "shopify_order:9000001", "shopify_order:9000002"]
    assert len({before[record] for record in guarded}) == 4
    assert query(warehouse, "select identifier, distrust_reason from intermediate.int_identity_identifiers_assessed "
                            "where identifier in ('+14155550199', 'info@acme-supplies.com') order by 1") == [
        ("+14155550199", "records with incompatible first names"), ("info@acme-supplies.com", "generic mailbox"),
    ]

    for path in held_back.rglob("*"):
        if path.is_file():
            path.rename(landing / path.relative_to(held_back))
    erased_before = query(warehouse, "select coalesce(sum(customers_erased), 0) from privacy.erasure_requests_processed")[0][0]
    assert run_pipeline(load_settings()).success
    after = dict(query(warehouse, "select record_id, customer_id from identity.customer_id_assignments"))
    # The new day may carry an erasure request: that person's records are gone, and only theirs.
    erased_now = query(warehouse, "select coalesce(sum(customers_erased), 0) from privacy.erasure_requests_processed")[0][0] - erased_before
    erased = {before[record] for record in set(before) - set(after)}
    assert len(erased) == erased_now
    assert not any(before.get(record) in erased for record in after)
    before = {record: customer for record, customer in before.items() if customer not in erased}
    retired = dict(query(warehouse, "select retired_customer_id, current_customer_id from identity.retired_customer_ids"))
    splits = set(query(warehouse, "select customer_id, related_customer_id from identity.customer_id_events where event_type = 'split'"))

    assert len(after) > len(before)  # the new day brought new records
    changed = {record: (before[record], after[record]) for record in before if after[record] != before[record]}
    unexplained = {
        record: ids for record, ids in changed.items() if retired.get(ids[0]) != ids[1] and ids not in splits
    }
    assert not unexplained
    # Every id issued before is still live or maps to a live one.
    live = set(after.values())
    assert all(customer in live or retired.get(customer) in live for customer in before.values())
    # One more day adds assignments for new customers and changes none: every earlier row stands as it
    # was, and a customer who survived a merge keeps the arm it had.
    assignments_after = ledger(warehouse)
    assignments_before = [row for row in assignments_before if row[1] not in erased]
    assert set(assignments_before) <= set(assignments_after) and len(assignments_after) > len(assignments_before)
    arm_before = {customer: arm for _, customer, arm, _ in assignments_before}
    arm_after = {customer: arm for _, customer, arm, _ in assignments_after}
    assert all(arm_after[customer] == arm for customer, arm in arm_before.items() if customer in live)


def add_household_and_office_mailbox(landing: Path, day: dt.date) -> None:
    """Ann and Tom Lee share a landline and a street; Maria and John order with their office's info@ address."""
    contact = {"Last Name": "Lee", "Phone": "(415) 555-0199", "Mailing Street": "12 Birch Ln", "Mailing City": "Oakland",
               "Mailing State/Province": "CA", "Mailing Zip/Postal Code": "94607", "Mailing Country": "US", "Email Opt Out": "0",
               "Personalization Opt Out": "0", "Is Deleted": "0", "Created Date": f"{day}T09:00:00.000Z", "Last Modified Date": f"{day}T09:00:00.000Z"}
    append_rows(landing / f"crm/contacts_{day}.csv", [
        contact | {"Contact ID": "0035g00000HoUsAAA1", "First Name": "Ann", "Birthdate": "4/2/1961"},
        contact | {"Contact ID": "0035g00000HoUsAAA2", "First Name": "Tom", "Birthdate": "9/30/1958"},
    ])
    order = {"Email": "info@acme-supplies.com", "Financial Status": "paid", "Created at": f"{day} 10:00:00 -0800",
             "Accepts Marketing": "no", "Currency": "USD", "Subtotal": "20.00", "Shipping": "0.00", "Taxes": "0.00", "Total": "20.00",
             "Discount Amount": "0.00", "Refunded Amount": "0.00", "Lineitem quantity": "1", "Lineitem name": "Hat",
             "Lineitem price": "20.00", "Lineitem sku": "HT-1", "Billing Street": "1 Office Park", "Billing City": "San Jose",
             "Billing Zip": "95110", "Billing Province": "CA", "Billing Country": "US", "Source": "web"}
    append_rows(landing / f"ecommerce/orders_{day}.csv", [
        order | {"Id": "9000001", "Name": "#9000001", "Billing Name": "Maria Garcia"},
        order | {"Id": "9000002", "Name": "#9000002", "Billing Name": "John Baker"},
    ])


def append_rows(path: Path, rows: list[dict[str, str]]) -> None:
    """Append rows to a generated CSV export, in its own column order."""
    with path.open(encoding="utf-8-sig", newline="") as existing:
        header = next(csv.reader(existing))
    ends_with_newline = path.read_bytes().endswith(b"\n")
    with path.open("a", encoding="utf-8", newline="") as export:
        if not ends_with_newline:
            export.write("\n")
        csv.DictWriter(export, fieldnames=header, restval="", lineterminator="\n").writerows(rows)

