"""The product-coverage suite: SKUs sold that the products export never carried are counted, shown
by SKU, and warn only beyond the threshold. Hand-made marts in DuckDB, a real Great Expectations
validation, and the check result Dagster shows."""

import dagster as dg
import duckdb
import pytest

from dagster_project.defs.quality.check_results import check_result
from dagster_project.defs.quality.resources import QualityGates
from data_quality.product_coverage import SHAREABLE, build_product_coverage_batches, product_coverage_suite
from data_quality.thresholds import load_quality_thresholds
from data_quality.validation import validate_batches

THRESHOLDS = load_quality_thresholds().marts  # at most 2% of the SKUs sold unknown


def marts(sold: dict[str, int], catalog: list[str]) -> duckdb.DuckDBPyConnection:
    """fct_order_lines with `sold[sku]` lines per SKU (and a line without SKU), dim_products with `catalog`."""
    connection = duckdb.connect()
    connection.execute("CREATE SCHEMA marts")
    connection.execute("CREATE TABLE marts.fct_order_lines (order_line_id VARCHAR, sku VARCHAR)")
    connection.execute("CREATE TABLE marts.dim_products (sku VARCHAR)")
    lines = [(f"{sku}-{n}", sku) for sku, count in sold.items() for n in range(count)] + [("no-sku-1", None)]
    connection.executemany("INSERT INTO marts.fct_order_lines VALUES (?, ?)", lines)
    connection.execute("INSERT INTO marts.dim_products SELECT unnest(?::VARCHAR[])", [catalog])
    return connection


def validate(connection, tmp_path):
    suite = product_coverage_suite(THRESHOLDS)
    (outcome,) = validate_batches(suite, build_product_coverage_batches(connection), tmp_path, "run-1")
    return outcome


@pytest.fixture(scope="module")
def catalog() -> list[str]:
    return [f"APP-{n:04d}" for n in range(100)]


def test_a_rare_unknown_sku_passes_and_is_counted(catalog, tmp_path):
    outcome = validate(marts({**dict.fromkeys(catalog, 2), "POS-ONLY-1": 5}, catalog), tmp_path)
    assert outcome.passed
    (expectation,) = outcome.expectations
    assert (expectation.observed["element_count"], expectation.observed["unexpected_count"]) == (101, 1)


def test_many_unknown_skus_warn_and_name_them(catalog, tmp_path):
    sold = {**dict.fromkeys(catalog[:50], 1), **{f"OLD-{n}": 3 for n in range(5)}}
    outcome = validate(marts(sold, catalog), tmp_path)
    assert not outcome.passed
    result = check_result(dg.AssetKey(["marts", "fct_order_lines"]), outcome, QualityGates(tmp_path), shareable=SHAREABLE)
    assert result.severity.value == "WARN"
    samples = result.metadata["failing_samples"].value
    assert all(f"OLD-{n}" in samples for n in range(5))  # a SKU names a product, not a person: shown


def test_without_a_products_export_nothing_is_judged(tmp_path):
    outcome = validate(marts({"APP-1": 3, "APP-2": 1}, catalog=[]), tmp_path)
    assert outcome.passed

