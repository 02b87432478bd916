"""The Complete Journey's real baskets written as Shopify order and product exports the platform's
own reader accepts."""

from datetime import timezone

import polars as pl
import pytest

from dagster_project.demo_exports.public_baskets import busiest_households, read_complete_journey, write_complete_journey_landing
from dagster_project.ingest.contracts import ECOMMERCE_ORDERS, ECOMMERCE_PRODUCTS
from dagster_project.ingest.readers import read_export
from tests.demo_exports.demo_export_contract import daily_files, parse_shop_time, read_csv

HOUSEHOLDS, PRODUCTS = 30, 300


@pytest.fixture(scope="module")
def source() -> tuple[pl.DataFrame, pl.DataFrame]:
    return read_complete_journey()


@pytest.fixture(scope="module")
def landing(source, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("complete_journey")
    return folder, write_complete_journey_landing(folder, households=HOUSEHOLDS, products=PRODUCTS, source=source)


@pytest.fixture(scope="module")
def chosen_lines(source) -> pl.DataFrame:
    transactions, _ = source
    return transactions.filter(pl.col("household_id").is_in(busiest_households(transactions, HOUSEHOLDS).implode()))


@pytest.fixture(scope="module")
def orders(landing) -> pl.DataFrame:
    folder, _ = landing
    parsed = {day: read_export(path, ECOMMERCE_ORDERS) for day, path in daily_files(folder, "ecommerce", "orders").items()}
    assert sum(p.quarantine.height for p in parsed.values()) == 0
    return pl.concat([p.rows.with_columns(pl.lit(day).alias("day")) for day, p in parsed.items()])


@pytest.fixture(scope="module")
def products(landing) -> pl.DataFrame:
    folder, _ = landing
    [path] = daily_files(folder, "ecommerce", "products").values()
    parsed = read_export(path, ECOMMERCE_PRODUCTS)
    assert parsed.quarantine.height == 0
    return parsed.rows


def test_the_complete_journey_ships_offline_with_its_published_size(source):
    transactions, products = source
    assert (transactions.height, transactions["household_id"].n_unique(), transactions["basket_id"].n_unique()) == (
        1_469_307, 2_469, 155_848)
    assert products["product_id"].n_unique() == products.height


def test_headers_hold_exactly_the_contract_columns(landing):
    folder, _ = landing
    for stem, contract in (("orders", ECOMMERCE_ORDERS), ("products", ECOMMERCE_PRODUCTS)):
        for path in daily_files(folder, "ecommerce", stem).values():
            header, _ = read_csv(path)
            assert sorted(header) == sorted(contract.columns)


def test_every_source_line_is_written_or_counted_as_left_out(landing, chosen_lines, orders, source):
    _, written = landing
    _, descriptions = source
    assert written.source_lines == chosen_lines.height
    coupon_ids = descriptions.filter(pl.col("department") == "COUPON")["product_id"].implode()
    assert written.lines_without_goods == chosen_lines.filter((pl.col("quantity") <= 0) | pl.col("product_id").is_in(coupon_ids)).height
    assert written.lines + written.lines_without_goods + written.lines_outside_catalog == written.source_lines
    assert orders.height == written.lines
    assert written.orders + written.baskets_emptied == chosen_lines["basket_id"].n_unique()


def test_each_basket_is_one_order_with_its_kept_lines_and_their_total(landing, chosen_lines, orders):
    _, written = landing
    kept = chosen_lines.filter(pl.col("quantity") > 0).with_columns(
        ("CJ-" + pl.col("product_id").cast(pl.String)).alias("Lineitem sku")).join(
        orders.select("Lineitem sku").unique(), on="Lineitem sku", how="semi")
    expected = kept.group_by(pl.col("basket_id").cast(pl.String).alias("Id")).agg(
        pl.len().alias("lines"), pl.col("sales_value").sum().alias("sales_usd"))
    got = orders.group_by("Id").agg(
        pl.len().alias("lines"), pl.col("Total").drop_nulls().cast(pl.Float64).first().alias("total_usd"),
        (pl.col("Lineitem price").cast(pl.Float64) * pl.col("Lineitem quantity").cast(pl.Int64)).sum().alias("lines_usd"),
        pl.col("Name").drop_nulls().len().alias("names"))
    both = expected.join(got, on="Id", how="full", coalesce=True)
    assert both.height == written.orders and both.null_count().sum_horizontal().item() == 0
    assert (both["lines"] == both["lines_right"]).all() and (both["names"] == 1).all()
    assert both["total_usd"].to_list() == pytest.approx(both["lines_usd"].to_list(), abs=0.001)
    # Unit prices are rounded to the cent, so a line of n items may be off by n half-cents.
    assert (both["total_usd"] - both["sales_usd"]).abs().max() < 0.5
    assert written.revenue_usd == pytest.approx(kept["sales_value"].sum(), rel=1e-3)


def test_orders_land_on_their_utc_day_with_one_buyer_per_household_and_no_address(orders, landing):
    _, written = landing
    first_rows = orders.filter(pl.col("Name").is_not_null())
    utc_days = [parse_shop_time(text).astimezone(timezone.utc).date() for text in first_rows["Created at"]]
    assert utc_days == first_rows["day"].to_list()
    assert first_rows["Email"].null_count() == 0 and first_rows["Billing Name"].null_count() == 0
    assert first_rows.group_by("Email").agg(pl.col("Billing Name").n_unique())["Billing Name"].max() == 1
    assert first_rows["Email"].n_unique() == written.households == HOUSEHOLDS
    assert first_rows.select("Billing Street", "Billing Zip", "Billing Phone").null_count().row(0) == (first_rows.height,) * 3


def test_products_carry_department_category_and_every_sku_sold(products, orders, source, landing):
    _, descriptions = source
    _, written = landing
    assert products.height == products["Handle"].n_unique() == written.products == PRODUCTS
    assert set(orders["Lineitem sku"]) == set(products["Variant SKU"])
    described = products.with_columns(pl.col("Variant SKU").str.strip_prefix("CJ-").cast(pl.Int64).alias("product_id")).join(
        descriptions, on="product_id", how="left")
    assert (described["Type"] == described["department"]).all()
    assert (described["Tags"].fill_null("") == described["product_category"].fill_null("").str.replace_all(",", " ")).all()
    assert described.select(pl.col("Title", "Vendor", "Variant Price").null_count()).sum_horizontal().item() == 0
    assert products.select("Title", "Vendor").unique().height == products.height
