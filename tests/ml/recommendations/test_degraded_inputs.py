"""Any contract-valid export runs: no orders, no catalog, a handful of buyers. The night degrades to
what the data supports (popularity, or nothing to list) and says so, never crashes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl

from ml.model_registry import ModelRegistry
from ml.recommendations.inputs import PRODUCT_SCHEMA, RecommendationInputs
from ml.recommendations.nightly_recommendations import recommend_nightly
from ml.recommendations.warehouse_inputs import read_inputs

AS_OF = dt.datetime(2026, 6, 1)
CUSTOMERS = pl.DataFrame({"customer_id": ["a", "b", "c"], "interests": [["Home"], [], []], "country_code": ["US", "US", None],
                          "is_personalization_withheld": [False, False, True]})


def _purchases(rows: list[tuple[str, str, int]]) -> pl.DataFrame:
    return pl.DataFrame([{"customer_id": c, "sku": s, "ordered_at": AS_OF - dt.timedelta(days=d), "quantity": 1,
                          "is_returned": False} for c, s, d in rows],
                        schema={"customer_id": pl.String, "sku": pl.String, "ordered_at": pl.Datetime("us"),
                                "quantity": pl.Int64, "is_returned": pl.Boolean})


def test_a_shop_without_orders_gets_no_lists_and_no_version(tmp_path: Path):
    products = pl.DataFrame([{"sku": "s1", "title": "Lamp", "category": "Home", "vendor": "V", "product_type": "Lamp",
                              "tags": [], "price": 20.0, "is_archived": False, "is_published": True, "is_in_stock": True,
                              "first_seen_date": dt.date(2026, 1, 1)}])
    night = recommend_nightly(RecommendationInputs.of(_purchases([]), products, CUSTOMERS, AS_OF), ModelRegistry(tmp_path),
                              AS_OF.date())
    assert night.version is None and night.decision is None and night.scorer == "popularity"
    # Nothing sold lately: no list to show anyone, and no crash.
    assert night.lists.height == 0


def test_a_handful_of_buyers_and_no_catalog_at_all_run_to_empty_lists(tmp_path: Path):
    purchases = _purchases([("a", "s1", 5), ("b", "s1", 3), ("b", "s2", 40), ("a", "s3", 100)])
    night = recommend_nightly(RecommendationInputs.of(purchases, pl.DataFrame(schema=PRODUCT_SCHEMA), CUSTOMERS, AS_OF),
                              ModelRegistry(tmp_path), AS_OF.date())
    # Too few buyers to train a ranker: popularity lists, and with no catalog nothing is known sellable.
    assert night.version is None and night.scorer == "popularity"
    assert night.lists.height == 0 and night.similar.height == 0


def test_skus_sold_but_missing_from_the_products_export_come_from_the_order_lines(tmp_path: Path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as connection:
        connection.execute("""
            create schema marts;
            create table marts.fct_orders as select 'o1' as order_id, false as is_cancelled, 'paid' as financial_status;
            create table marts.fct_order_lines as select 'o1' as order_id, 'a' as customer_id, 'NEW-1' as sku,
                'Hand-made Mug' as product_name, timestamp '2026-05-20 10:00' as order_created_at, 1 as quantity,
                12.5 as unit_price;
            create table marts.dim_products (sku varchar, title varchar, option_name varchar, option_value varchar,
                category varchar, vendor varchar, product_type varchar, tags varchar[], price decimal(18,4),
                is_archived boolean, is_published boolean, is_in_stock boolean, first_seen_date date);
            create table marts.dim_customers as select 'a' as customer_id, ['Home'] as interests, 'US' as country_code,
                false as is_personalization_opted_out;
        """)
        inputs = read_inputs(connection, AS_OF)
    assert inputs.products.select("sku", "title", "is_archived", "is_published").rows() == [("NEW-1", "Hand-made Mug", False, True)]
    assert inputs.purchases.height == 1


def test_a_free_product_in_the_catalog_does_not_stop_the_ranker(demo_inputs: RecommendationInputs, tmp_path: Path):
    # A coupon rung up as a 0.00 item: its price fit is unknown, not infinite.
    products = demo_inputs.products.with_columns(
        pl.when(pl.int_range(pl.len()) < 50).then(0.0).otherwise(pl.col("price")).alias("price"))
    inputs = RecommendationInputs.of(demo_inputs.purchases, products, demo_inputs.customers, demo_inputs.as_of)
    night = recommend_nightly(inputs, ModelRegistry(tmp_path), AS_OF.date())
    assert night.version is not None and night.lists.height == demo_inputs.customers.height
