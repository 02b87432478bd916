"""stg_shopify__orders, stg_shopify__order_lines and stg_ecommerce__fx_rates through real dbt."""

import datetime
from decimal import Decimal

import pytest

pytestmark = pytest.mark.slow  # each module runs dbt seed + build once

FIRST_FILE = "ecommerce/orders_2024-03-05.csv"
LATER_FILE = "ecommerce/orders_2024-03-07.csv"


def order(order_id: str, currency: str = "USD", created: str = "2024-03-05 10:15:00 -0500", **cells: str) -> dict:
    """The first row of an order, with the order-level columns filled."""
    return {"Id": order_id, "Name": f"#{order_id}", "Currency": currency, "Created at": created,
            "Financial Status": "paid", "Source": "web", **cells}


def line(order_id: str, name: str, quantity: str, price: str) -> dict:
    """A further line row of an order: order-level cells blank, as Shopify exports them."""
    return {"Id": order_id, "Lineitem name": name, "Lineitem quantity": quantity, "Lineitem price": price}


@pytest.fixture(scope="module")
def warehouse(build_staging):
    first_file = [
        order("1001", Total="30.00", **{"Refunded Amount": "0.00", "Lineitem name": "A",
                                        "Lineitem quantity": "1", "Lineitem price": "10.00"}),
        line("1001", "B", "2", "10.00"),
        # 01:30 at +02:00 is still the 4th in UTC; the 4th has no EUR rate, the 3rd has.
        order("1002", "EUR", "2024-03-05 01:30:00 +0200", Total="100.00",
              **{"Lineitem name": "C", "Lineitem quantity": "2", "Lineitem price": "50.00"}),
        order("1003", Tags="vip, Test"),
        order("1004", Tags="testing,contest"),
        order("1005", "CAD", Total="10.00"),
        order("1006", "GBP", Email=" Buyer@Example.co.UK ", **{
            "Billing Name": "  Zoë   O'Brien-Smith ", "Billing Phone": "020 7946 0958",
            "Billing Country": "UK", "Billing Zip": "sw1a 1aa"}),
    ]
    later_file = [
        # 1001 re-delivered after a partial refund, now with one line.
        order("1001", Total="30.00", **{"Financial Status": "partially_refunded", "Refunded Amount": "10.00",
                                        "Lineitem name": "A", "Lineitem quantity": "3", "Lineitem price": "10.00"}),
    ]
    fx_rates = {
        "ecommerce/fx_rates_2024-03-01.csv": [
            {"date": "2024-03-01", "currency": "EUR", "usd_per_unit": "1.08"},
            {"date": "2024-03-01", "currency": "GBP", "usd_per_unit": "1.25"},
            {"date": "2024-03-03", "currency": "EUR", "usd_per_unit": "1.10"},
        ],
        # A corrected rate for the 3rd delivered in a later extract.
        "ecommerce/fx_rates_2024-03-04.csv": [{"date": "2024-03-03", "currency": "EUR", "usd_per_unit": "1.09"}],
        # CAD has no rate on or before the order day.
        "ecommerce/fx_rates_2024-03-10.csv": [{"date": "2024-03-10", "currency": "CAD", "usd_per_unit": "0.74"}],
    }
    return build_staging({
        "ecommerce_orders": {FIRST_FILE: first_file, LATER_FILE: later_file},
        "ecommerce_fx_rates": fx_rates,
    })


def order_row(warehouse, order_id: int) -> dict:
    rows = warehouse.rows(f"select * from staging.stg_shopify__orders where order_id = {order_id}")
    assert len(rows) == 1
    return rows[0]


def test_redelivered_order_takes_the_later_version(warehouse):
    row = order_row(warehouse, 1001)
    assert (row["financial_status"], row["refunded_amount"], row["source_file"]) == (
        "partially_refunded", Decimal("10.0000"), LATER_FILE)


def test_lines_of_the_later_version_replace_the_old_lines(warehouse):
    lines = warehouse.rows(
        "select order_line_id, product_name, quantity, line_amount from staging.stg_shopify__order_lines "
        "where order_id = 1001")
    assert lines == [{"order_line_id": "1001-1", "product_name": "A", "quantity": 3, "line_amount": Decimal("30.0000")}]
    assert order_row(warehouse, 1001)["line_count"] == 1


def test_blank_order_level_cells_on_extra_line_rows_are_not_an_order_version(warehouse):
    assert warehouse.rows("select count(*) as orders from staging.stg_shopify__orders") == [{"orders": 6}]
    row = order_row(warehouse, 1006)
    assert (row["currency"], row["financial_status"], row["line_count"]) == ("GBP", "paid", 1)


def test_order_timestamps_are_converted_to_utc(warehouse):
    assert order_row(warehouse, 1002)["created_at"] == datetime.datetime(2024, 3, 4, 23, 30)


def test_usd_conversion_with_a_missing_fx_day_uses_the_latest_earlier_rate(warehouse):
    row = order_row(warehouse, 1002)
    assert (row["fx_rate_date"], row["usd_per_unit"], row["total_amount_usd"]) == (
        datetime.date(2024, 3, 3), Decimal("1.09"), Decimal("109.0000"))


def test_order_lines_are_converted_at_the_order_rate(warehouse):
    lines = warehouse.rows("select line_amount, line_amount_usd from staging.stg_shopify__order_lines where order_id = 1002")
    assert lines == [{"line_amount": Decimal("100.0000"), "line_amount_usd": Decimal("109.0000")}]


def test_usd_orders_need_no_rate(warehouse):
    row = order_row(warehouse, 1001)
    assert (row["usd_per_unit"], row["total_amount_usd"]) == (Decimal(1), Decimal("30.0000"))


def test_order_without_any_earlier_rate_has_null_usd_and_a_warning(warehouse):
    row = order_row(warehouse, 1005)
    assert (row["usd_per_unit"], row["total_amount_usd"]) == (None, None)
    assert warehouse.test_status("not_null_stg_shopify__orders_usd_per_unit") == "warn"


def test_redelivered_fx_rate_takes_the_latest_extract(warehouse):
    rates = warehouse.rows(
        "select usd_per_unit from staging.stg_ecommerce__fx_rates where currency = 'EUR' and rate_date = '2024-03-03'")
    assert rates == [{"usd_per_unit": Decimal("1.09")}]


@pytest.mark.parametrize(("order_id", "is_test"), [
    (1003, True),   # "vip, Test": the tag test, any case, after trimming
    (1004, False),  # "testing,contest": contains the letters, not the tag
    (1001, False),  # no tags
])
def test_test_orders_are_flagged_by_their_tag(warehouse, order_id, is_test):
    assert order_row(warehouse, order_id)["is_test_order"] is is_test


def test_buyer_identity_is_normalized_like_contacts(warehouse):
    row = order_row(warehouse, 1006)
    assert (row["email_normalized"], row["is_email_valid"]) == ("buyer@example.co.uk", True)
    assert (row["billing_first_name_normalized"], row["billing_last_name_normalized"]) == ("zoe", "o'brien-smith")
    assert (row["billing_country_code"], row["billing_phone_e164"]) == ("GB", "+442079460958")
    assert row["billing_postcode_normalized"] == "SW1A1AA"


def test_every_line_belongs_to_a_current_order(warehouse):
    assert warehouse.test_status("relationships_stg_shopify__order_lines_order_id") == "pass"
