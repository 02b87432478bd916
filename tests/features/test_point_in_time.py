"""Point-in-time correctness on hand-made events: one customer's history through the real pipeline,
then Feast's offline retrieval at moments around each event, against values worked out by hand."""

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from dagster_project.cli.run_pipeline import run_pipeline
from dagster_project.settings import load_settings
from tests.conftest import query
from tests.identity.test_customer_id_stability import ORDER_HEADER, deliver
from tests.ingest.test_readers import CONTACT_HEADER

pytestmark = pytest.mark.slow

ANN = "0035g00000AnnLeeAV,Ann,Lee,ann@example.com,(415) 555-0132,1 Main St,SF,CA,94105,US,3/5/1980,Web,Email,Shoes,0,0,2024-03-01T09:00:00.000Z,2024-03-01T09:00:00.000Z,0"


def order(order_id: int, status: str, created: str, total: str, refunded: str = "0.00", cancelled: str = "") -> str:
    return (f"{order_id},#{order_id},ann@example.com,{status},{created},{created},{cancelled},fulfilled,yes,USD,{total},0.00,0.00,{total},"
            f"0.00,{refunded},,1,Canvas Shoes,{total},SH-001,Ann Lee,1 Main St,SF,94105,CA,US,(415) 555-0132,,web")


def email_event(event_id: str, kind: str, unix_seconds: int, extra: str = "") -> str:
    return (f'{{"email":"ann@example.com","timestamp":{unix_seconds},"event":"{kind}","sg_event_id":"{event_id}",'
            f'"sg_message_id":"msg-1","category":"spring"{extra}}}\n')


def ticket(status: str, updated: str, rating: str, resolution_minutes: str) -> str:
    return (f'{{"id":900,"created_at":"2024-03-07T09:00:00Z","updated_at":"{updated}","status":"{status}","priority":"urgent",'
            f'"type":"problem","subject":"Late","description":"Where is it?","via":{{"channel":"email"}},'
            f'"requester":{{"id":77,"name":"Ann Lee","email":"ann@example.com","phone":null}},"tags":[],'
            f'"satisfaction_rating":{{"score":"{rating}","comment":null}},'
            f'"metrics":{{"first_reply_minutes":30,"full_resolution_minutes":{resolution_minutes},"reopens":0}}}}\n')


CAMPAIGN = ',"marketing_campaign_id":7,"marketing_campaign_name":"Spring"'


def deliver_history(landing: Path) -> None:
    """Ann's March to May 2024, each file on the day it was exported."""
    deliver(landing, "crm/contacts_2024-03-01.csv", f"{CONTACT_HEADER}\n{ANN}\n")
    for day in ("2024-03-02", "2024-03-05", "2024-03-20", "2024-04-10"):
        deliver(landing, f"ecommerce/fx_rates_{day}.csv", f"date,currency,usd_per_unit\n{day},USD,1\n")
    deliver(landing, "ecommerce/orders_2024-03-02.csv", f"{ORDER_HEADER}\n{order(1001, 'paid', '2024-03-02 10:00:00 -0800', '100.00')}\n")
    deliver(landing, "ecommerce/orders_2024-03-05.csv", f"{ORDER_HEADER}\n{order(1002, 'paid', '2024-03-05 07:00:00 -0500', '50.00')}\n")
    # A partial refund of the first order, delivered on the 20th.
    deliver(landing, "ecommerce/orders_2024-03-20.csv",
            f"{ORDER_HEADER}\n{order(1001, 'partially_refunded', '2024-03-02 10:00:00 -0800', '100.00', refunded='30.00')}\n")
    # The second order is cancelled on April 10th.
    deliver(landing, "ecommerce/orders_2024-04-10.csv", f"{ORDER_HEADER}\n"
            f"{order(1002, 'voided', '2024-03-05 07:00:00 -0500', '50.00', cancelled='2024-04-10 09:00:00 -0500')}\n")
    deliver(landing, "email/events_2024-03-03.jsonl", email_event("e1", "delivered", 1709460000))  # 3 March 10:00 UTC
    deliver(landing, "email/events_2024-03-04.jsonl", email_event("e2", "open", 1709553600, ',"sg_machine_open":false'))
    # A click made on 6 March that the webhook delivered two days late.
    deliver(landing, "email/events_2024-03-08.jsonl", email_event("e3", "click", 1709726400, ',"url":"https://shop.example/"'))
    deliver(landing, "support/tickets_2024-03-07.jsonl", ticket("new", "2024-03-07T09:00:00Z", "unoffered", "null"))
    deliver(landing, "support/tickets_2024-03-12.jsonl", ticket("solved", "2024-03-12T10:00:00Z", "bad", "7260"))
    # Spring campaign mail: one read before her third order (2 May), one left unread after it. The
    # order's confirmation is no campaign mail and counts in neither.
    for day in ("2024-05-02",):
        deliver(landing, f"ecommerce/fx_rates_{day}.csv", f"date,currency,usd_per_unit\n{day},USD,1\n")
    deliver(landing, "email/events_2024-04-20.jsonl", email_event("c1", "delivered", 1713607200, CAMPAIGN))
    deliver(landing, "email/events_2024-04-21.jsonl", email_event("c2", "open", 1713686400, CAMPAIGN + ',"sg_machine_open":false'))
    deliver(landing, "ecommerce/orders_2024-05-02.csv", f"{ORDER_HEADER}\n{order(1003, 'paid', '2024-05-02 10:00:00 -0700', '80.00')}\n")
    deliver(landing, "email/events_2024-05-02.jsonl", email_event("t1", "delivered", 1714673100)
            + email_event("t2", "open", 1714673100 + 60, ',"sg_machine_open":false'))
    deliver(landing, "email/events_2024-05-10.jsonl", email_event("c3", "delivered", 1715335200, CAMPAIGN))


# (entity timestamp, the values known then). A snapshot dated D becomes known at the end of D.
EXPECTED = [
    ("2024-03-02 23:59:59", {"orders_lifetime": None, "deliveries_30d": None, "tickets_30d": None}),
    ("2024-03-03 00:00:00", {"orders_lifetime": 1, "orders_30d": 1, "net_revenue_usd_lifetime": 100.0,
                             "last_order_at": "2024-03-02 18:00:00"}),
    ("2024-03-04 00:00:00", {"deliveries_30d": 1, "human_opens_30d": 0}),
    ("2024-03-05 23:00:00", {"orders_lifetime": 1, "human_opens_30d": 1}),  # the order placed on the 5th is not known yet
    ("2024-03-06 00:00:00", {"orders_lifetime": 2, "orders_30d": 2, "net_revenue_usd_30d": 150.0, "days_since_last_order": 0.5}),
    ("2024-03-08 12:00:00", {"clicks_30d": 0, "tickets_30d": 1, "open_tickets": 1, "urgent_tickets_90d": 1}),
    ("2024-03-09 00:00:00", {"clicks_30d": 1, "last_click_at": "2024-03-06 12:00:00"}),  # known when delivered
    ("2024-03-13 00:00:00", {"open_tickets": 0, "bad_ratings_90d": 1, "resolved_tickets_lifetime": 1, "mean_resolution_minutes": 7260.0}),
    ("2024-03-20 12:00:00", {"net_revenue_usd_lifetime": 150.0, "refunded_usd_lifetime": 0.0}),
    ("2024-03-21 00:00:00", {"net_revenue_usd_lifetime": 120.0, "refunded_usd_lifetime": 30.0, "refund_rate": 0.2}),
    # The first order (placed 2 March) left the 30-day window on 1 April; the second is still in it.
    ("2024-04-02 00:00:00", {"orders_30d": 1, "orders_90d": 2, "net_revenue_usd_30d": 50.0, "deliveries_30d": 1}),
    # The delivery known on 3 March leaves the 30-day window on 2 April.
    ("2024-04-03 00:00:00", {"deliveries_30d": 0, "deliveries_90d": 1}),
    # The cancellation of the second order, placed within 90 days, takes it out of every window.
    ("2024-04-11 00:00:00", {"orders_lifetime": 1, "orders_30d": 0, "orders_90d": 1, "net_revenue_usd_90d": 70.0,
                             "net_revenue_usd_lifetime": 70.0}),
]
FEATURES = ["customer_purchase:orders_lifetime", "customer_purchase:orders_30d", "customer_purchase:orders_90d",
            "customer_purchase:net_revenue_usd_30d", "customer_purchase:net_revenue_usd_90d",
            "customer_purchase:net_revenue_usd_lifetime", "customer_purchase:refunded_usd_lifetime", "customer_purchase:last_order_at",
            "customer_purchase_derived:days_since_last_order", "customer_purchase_derived:refund_rate",
            "customer_email:deliveries_30d", "customer_email:deliveries_90d", "customer_email:human_opens_30d",
            "customer_email:clicks_30d", "customer_email:last_click_at",
            "customer_support:tickets_30d", "customer_support:open_tickets", "customer_support:urgent_tickets_90d",
            "customer_support:bad_ratings_90d", "customer_support:resolved_tickets_lifetime",
            "customer_support_derived:mean_resolution_minutes"]


@pytest.fixture(scope="module")
def ann(tmp_path_factory):
    """A home holding Ann's history after one pipeline run: (her customer id, the Feast store)."""
    home = tmp_path_factory.mktemp("ann")
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name in ("CXP_WAREHOUSE_PATH", "CXP_QUALITY_THRESHOLDS", "CXP_PARTITION_START", "DBT_TARGET_PATH", "DBT_LOG_PATH"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("CXP_HOME", str(home))
        monkeypatch.setenv("CXP_LANDING", str(home / "landing"))
        monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
        deliver_history(home / "landing")
        assert run_pipeline(load_settings()).success
        (customer,), = query(home / "warehouse.duckdb", "select customer_id from marts.dim_customers")
        from feature_repo.definitions import open_feature_store

        yield customer, open_feature_store(load_settings())


def test_features_at_each_moment_are_what_was_known_then(ann):
    customer, store = ann
    entity_rows = pd.DataFrame({"customer_id": customer, "event_timestamp": [pd.Timestamp(moment, tz="UTC") for moment, _ in EXPECTED]})
    retrieved = store.get_historical_features(entity_df=entity_rows, features=FEATURES).to_df().sort_values("event_timestamp")

    assert list(retrieved["event_timestamp"]) == list(entity_rows["event_timestamp"])  # every row, once
    for (moment, expected), (_, row) in zip(EXPECTED, retrieved.iterrows()):
        for feature, value in expected.items():
            got = row[feature]
            if value is None:
                assert pd.isna(got), (moment, feature, got)
            elif isinstance(value, str):
                assert pd.Timestamp(got).replace(tzinfo=None) == pd.Timestamp(value), (moment, feature, got)
            else:
                assert got == pytest.approx(value), (moment, feature, got)


def test_no_entity_row_gets_a_value_from_after_its_timestamp(ann):
    """Sweep every hour of the history: each timestamp feature returned lies before its entity row."""
    customer, store = ann
    moments = pd.date_range("2024-03-01", "2024-04-15", freq="h", tz="UTC")
    retrieved = store.get_historical_features(
        entity_df=pd.DataFrame({"customer_id": customer, "event_timestamp": moments}),
        features=["customer_purchase:last_order_at", "customer_email:last_click_at", "customer_support:last_ticket_at"],
    ).to_df()
    assert len(retrieved) == len(moments)
    for column in ("last_order_at", "last_click_at", "last_ticket_at"):
        known = retrieved[retrieved[column].notna()]
        assert len(known) > 0
        assert (pd.to_datetime(known[column], utc=True) < known["event_timestamp"]).all(), column
    # The click of 6 March is not known before the export that delivered it (8 March) ends.
    clicks = retrieved[retrieved["last_click_at"].notna()]
    assert clicks["event_timestamp"].min() == pd.Timestamp(dt.datetime(2024, 3, 9), tz="UTC")


CAMPAIGN_FEATURES = ["customer_email:campaign_deliveries_lifetime", "customer_email:campaign_human_opens_lifetime",
                     "customer_email:campaign_deliveries_since_last_order", "customer_email:campaign_human_opens_since_last_order",
                     "customer_email_derived:campaign_open_rate_before_last_order",
                     "customer_email_derived:campaign_open_rate_since_last_order",
                     "customer_email_derived:campaign_open_rate_change_since_last_order"]


def test_campaign_mail_is_counted_before_and_since_the_last_order(ann):
    """Whether a customer still reads the shop's campaigns after buying: the count restarts on the day
    an order becomes known, and only campaign mail counts, not the order's own confirmation."""
    customer, store = ann
    moments = {  # (lifetime delivered, lifetime opened, delivered since, opened since, rate before, rate since, change)
        "2024-04-21 00:00:00": (1, 0, 1, 0, None, 0.0, None),  # delivered after her last order (5 March), not opened yet
        "2024-04-22 00:00:00": (1, 1, 1, 1, None, 1.0, None),  # nothing was delivered before that order to compare with
        "2024-05-03 00:00:00": (1, 1, 0, 0, 1.0, None, None),  # the third order restarts the count; the confirmation is not campaign mail
        "2024-05-11 00:00:00": (2, 1, 1, 0, 1.0, 0.0, 0.0),    # read all before it, none since
    }
    retrieved = store.get_historical_features(
        entity_df=pd.DataFrame({"customer_id": customer, "event_timestamp": [pd.Timestamp(m, tz="UTC") for m in moments]}),
        features=CAMPAIGN_FEATURES,
    ).to_df().sort_values("event_timestamp")
    names = [feature.split(":")[1] for feature in CAMPAIGN_FEATURES]
    for (moment, expected), (_, row) in zip(moments.items(), retrieved.iterrows()):
        for name, value in zip(names, expected):
            assert (pd.isna(row[name]) if value is None else row[name] == pytest.approx(value)), (moment, name, row[name])
