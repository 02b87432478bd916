"""ecommerce/orders and ecommerce/fx_rates files follow the Shopify export contract."""

from __future__ import annotations

import re

from tests.demo_exports.demo_export_contract import (
    DECIMAL,
    FX_COLUMNS,
    ORDER_COLUMNS,
    ORDER_LINE_COLUMNS,
    cents,
    daily_files,
    parse_shop_time,
    read_csv,
)

ORDER_LEVEL = [c for c in ORDER_COLUMNS if c not in ORDER_LINE_COLUMNS]
FINANCIAL = {"pending", "authorized", "paid", "partially_paid", "partially_refunded", "refunded", "voided"}


def _orders(demo_dir):
    """(file date, [rows of one order]) in file order."""
    for day, path in daily_files(demo_dir, "ecommerce", "orders").items():
        header, rows = read_csv(path)
        records = [dict(zip(header, row)) for row in rows]
        group: list[dict[str, str]] = []
        for record in records:
            if group and record["Id"] != group[0]["Id"]:
                yield day, group
                group = []
            group.append(record)
        if group:
            yield day, group


def test_headers_hold_the_contract_columns_plus_known_extras(demo_dir):
    seen_extra = False
    for path in daily_files(demo_dir, "ecommerce", "orders").values():
        header, rows = read_csv(path)
        assert [c for c in header if c in ORDER_COLUMNS] == ORDER_COLUMNS
        assert set(header) - set(ORDER_COLUMNS) <= {"Lineitem compare at price", "Notes"}
        seen_extra |= len(header) > len(ORDER_COLUMNS)
        assert all(len(row) == len(header) for row in rows)
    assert seen_extra


def test_order_level_cells_are_only_on_the_first_row_of_each_order(demo_dir):
    multi_line = 0
    for _, rows in _orders(demo_dir):
        assert rows[0]["Name"].startswith("#") and rows[0]["Created at"]
        for extra in rows[1:]:
            multi_line += 1
            assert all(extra[c] == "" for c in ORDER_LEVEL), extra
        assert all(r["Id"].isdigit() and r["Lineitem quantity"].isdigit() and DECIMAL.match(r["Lineitem price"])
                   for r in rows)
    assert multi_line > 0


def test_order_cells_parse_and_totals_add_up(demo_dir):
    for _, rows in _orders(demo_dir):
        first = rows[0]
        assert first["Financial Status"] in FINANCIAL
        assert first["Fulfillment Status"] in {"fulfilled", "partial", "unfulfilled", ""}
        assert first["Accepts Marketing"] in {"yes", "no"} and first["Currency"] in {"USD", "EUR", "GBP", "CAD"}
        assert first["Source"] in {"web", "pos", "iphone", "android", "shopify_draft_order"}
        for column in ("Paid at", "Created at", "Cancelled at"):
            if first[column]:
                parse_shop_time(first[column])
        assert cents(first["Total"]) == cents(first["Subtotal"]) + cents(first["Shipping"]) + cents(first["Taxes"])
        assert cents(first["Refunded Amount"]) <= cents(first["Total"])
        cents(first["Discount Amount"])


def test_orders_are_reissued_when_they_change(demo_dir):
    statuses: dict[str, list[str]] = {}
    for _, rows in _orders(demo_dir):
        statuses.setdefault(rows[0]["Id"], []).append(rows[0]["Financial Status"] + "/" + rows[0]["Fulfillment Status"])
    assert any(len(versions) > 1 for versions in statuses.values())
    assert any(v.startswith(("refunded", "partially_refunded")) for versions in statuses.values() for v in versions)


def test_fx_rates_list_each_currency_once_per_day_with_usd_at_one(demo_dir):
    for day, path in daily_files(demo_dir, "ecommerce", "fx_rates").items():
        header, rows = read_csv(path)
        assert header == FX_COLUMNS
        assert sorted(r[1] for r in rows) == ["CAD", "EUR", "GBP", "USD"]
        assert all(r[0] == day.isoformat() and re.match(r"^\d+\.\d+$", r[2]) for r in rows)
        assert {r[1]: float(r[2]) for r in rows}["USD"] == 1.0
