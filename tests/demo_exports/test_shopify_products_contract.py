"""ecommerce/products files follow the Shopify products export contract, change over time, and
carry the SKUs the orders sell."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest

from dagster_project.demo_exports.catalog import CATEGORIES
from dagster_project.ingest.contracts import ECOMMERCE_PRODUCTS
from tests.demo_exports.demo_export_contract import DECIMAL, daily_files, parse_shop_time, read_csv, read_csv_records

PRODUCT_LEVEL = ["Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags", "Published", "Option1 Name", "Status"]


@pytest.fixture(scope="module")
def files(demo_dir) -> dict[dt.date, list[dict[str, str]]]:
    return {day: read_csv_records(path) for day, path in daily_files(demo_dir, "ecommerce", "products").items()}


@pytest.fixture(scope="module")
def truth(demo_dir) -> pl.DataFrame:
    return pl.read_parquet(demo_dir / "_truth/products.parquet")


def _products(rows: list[dict[str, str]]) -> list[list[dict[str, str]]]:
    """The rows of a file grouped by product, in file order."""
    groups: list[list[dict[str, str]]] = []
    for row in rows:
        if groups and row["Handle"] == groups[-1][0]["Handle"]:
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def test_every_header_is_exactly_the_contract_columns(demo_dir):
    for path in daily_files(demo_dir, "ecommerce", "products").values():
        header, rows = read_csv(path)
        assert header == list(ECOMMERCE_PRODUCTS.columns)
        assert all(len(row) == len(header) for row in rows)


def test_product_columns_are_only_on_the_first_row_of_each_product(files):
    multi_variant = 0
    for rows in files.values():
        products = _products(rows)
        assert len({group[0]["Handle"] for group in products}) == len(products)  # a product once per file
        for first, *others in products:
            assert first["Title"] and first["Status"] in {"active", "draft", "archived"} and first["Published"] in {"TRUE", "FALSE"}
            multi_variant += len(others)
            assert all(row[column] == "" for row in others for column in PRODUCT_LEVEL)
    assert multi_variant > 0


def test_variant_cells_parse(files):
    for rows in files.values():
        for row in rows:
            assert DECIMAL.match(row["Variant Price"]) and (row["Variant Compare At Price"] == "" or DECIMAL.match(row["Variant Compare At Price"]))
            assert re.match(r"^-?\d+$", row["Variant Inventory Qty"]) or row["Variant Inventory Qty"] == ""


def test_the_first_file_is_the_whole_catalog_and_later_ones_carry_what_changed(files, truth):
    days = sorted(files)
    first = {row["Handle"] for row in files[days[0]]}
    assert len(first) > 5 * max(len({row["Handle"] for row in files[day]}) for day in days[1:])
    statuses: dict[str, list[str]] = {}
    for day in days:
        for first_row, *_ in _products(files[day]):
            statuses.setdefault(first_row["Handle"], []).append(first_row["Status"])
    assert any(len(seen) > 1 for seen in statuses.values())  # products reappear when they change
    assert any(seen[0] == "draft" and "active" in seen for seen in statuses.values())  # a launch during the window
    assert any(seen[-1] == "archived" for seen in statuses.values())
    # The default catalog: 2,000 SKUs over the simulated years, most of them launched by the window's end.
    assert len({row["Variant SKU"] for rows in files.values() for row in rows if row["Variant SKU"]}) >= 1_500


def test_the_export_has_the_gaps_real_catalogs_have(files):
    rows = [row for day_rows in files.values() for row in day_rows]
    firsts = [row for row in rows if row["Title"]]
    for column in ("Body (HTML)", "Product Category", "Type", "Tags"):
        assert 0 < sum(row[column] == "" for row in firsts) < 0.5 * len(firsts), column
    assert any(row["Variant Compare At Price"] for row in rows) and any(not row["Variant Compare At Price"] for row in rows)
    assert any(row["Variant Inventory Qty"] == "" for row in rows)  # inventory not tracked
    assert any(row["Variant Inventory Qty"].startswith("-") for row in rows)  # oversold
    assert 0 < sum(row["Variant SKU"] == "" for row in rows) < 0.02 * len(rows)


def test_order_lines_buy_catalog_skus_live_that_day_and_rarely_one_the_export_lacks(demo_dir, files, truth):
    exported = {row["Variant SKU"] for rows in files.values() for row in rows if row["Variant SKU"]}
    spells = pl.read_parquet(demo_dir / "_truth/product_availability.parquet")
    lines = []
    for path in daily_files(demo_dir, "ecommerce", "orders").values():
        created = None
        for row in read_csv_records(path):
            created = parse_shop_time(row["Created at"]).astimezone(dt.UTC).date() if row["Created at"] else created
            lines.append({"sku": row["Lineitem sku"], "day": created})
    sold = pl.DataFrame(lines).join(truth.select("sku", "handle", "in_products_export"), on="sku", how="left")
    assert sold["handle"].null_count() == 0  # every SKU sold is one of the catalog's
    unknown = sold.filter(~pl.col("sku").is_in(list(exported)))
    assert unknown["in_products_export"].not_().all() and unknown.height < 0.01 * sold.height
    live = sold.join(spells, on="handle").filter(
        (pl.col("available_from") <= pl.col("day")) & (pl.col("available_until").is_null() | (pl.col("day") < pl.col("available_until"))))
    assert live.select("sku", "day").unique().height == sold.select("sku", "day").unique().height


def test_the_truth_files_every_sku_under_a_category_with_its_product_dates(truth):
    assert truth.height == 2_000 and set(truth["category"]) == set(CATEGORIES)
    assert 0 < (~truth["in_products_export"]).sum() < 0.02 * truth.height  # sold through a channel the export does not cover
    assert (truth["launch_date"] >= truth["created_date"]).all()
    archived = truth.filter(pl.col("archive_date").is_not_null())
    assert archived.height > 0 and (archived["archive_date"] > archived["launch_date"]).all()
