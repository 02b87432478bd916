"""Great Expectations suites as Dagster asset checks: one check per rule, on the asset the suite guards.

Blocking rules are blocking checks: when one fails, the assets that read the guarded asset do not
run in that run (Dagster skips them), and what the guarded asset holds is kept as it is, so a
fixed re-delivery can be replayed.
"""

from collections.abc import Callable, Iterator
from datetime import datetime, timezone

import dagster as dg
from dagster_duckdb import DuckDBResource

from dagster_project.defs.ingest.assets import WAREHOUSE_POOL, raw_asset_key
from dagster_project.defs.quality.check_results import check_result, offending_raw_rows
from dagster_project.defs.quality.resources import QualityGates, QualityGatesParam
from dagster_project.ingest.contracts import SOURCE_CONTRACTS
from data_quality.customer_sizes import build_customer_size_batches, customer_size_suite
from data_quality.feature_tables import FEATURE_TABLE_RULES, build_feature_table_batches, feature_table_suite
from data_quality.order_reconciliation import build_order_reconciliation_batches, order_reconciliation_suite
from data_quality.product_coverage import SHAREABLE as PRODUCT_COVERAGE_SHAREABLE
from data_quality.product_coverage import build_product_coverage_batches, product_coverage_suite
from data_quality.raw_partitions import build_raw_export_batches, fx_currencies, partitions_to_validate, record_verdicts
from data_quality.raw_rules import raw_export_suite
from data_quality.rules import Batch, Severity, Suite
from data_quality.thresholds import QualityThresholds
from data_quality.validation import validate_batches, validate_suites

CUSTOMER_ASSIGNMENTS = dg.AssetKey(["identity", "customer_id_assignments"])
FCT_ORDERS = dg.AssetKey(["marts", "fct_orders"])
FCT_ORDER_LINES = dg.AssetKey(["marts", "fct_order_lines"])
DIM_PRODUCTS = dg.AssetKey(["marts", "dim_products"])


def build_quality_checks(thresholds: QualityThresholds) -> list[dg.AssetChecksDefinition]:
    """The suites on every raw export (one step), on the customer ids, on the order marts and on the
    product catalog's coverage of the SKUs sold."""
    return [
        _raw_export_checks(thresholds),
        _suite_checks(
            "identity_customer_sizes", CUSTOMER_ASSIGNMENTS, customer_size_suite(thresholds.identity),
            lambda quality, connection: (customer_size_suite(quality.thresholds.identity), build_customer_size_batches(connection)),
        ),
        _suite_checks(
            "marts_order_reconciliation", FCT_ORDERS, order_reconciliation_suite(thresholds.marts),
            lambda quality, connection: (order_reconciliation_suite(quality.thresholds.marts), build_order_reconciliation_batches(connection)),
            additional_deps=[FCT_ORDER_LINES],
        ),
        _suite_checks(
            "marts_product_coverage", FCT_ORDER_LINES, product_coverage_suite(thresholds.marts),
            lambda quality, connection: (product_coverage_suite(quality.thresholds.marts), build_product_coverage_batches(connection)),
            additional_deps=[DIM_PRODUCTS], shareable=PRODUCT_COVERAGE_SHAREABLE,
        ),
        _feature_table_checks(thresholds),
    ]


def _specs(asset_key: dg.AssetKey, suite: Suite, additional_deps: list[dg.AssetKey] = ()) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            rule.name, asset=asset_key, description=rule.description, blocking=rule.severity is Severity.BLOCKING,
            additional_deps=additional_deps, metadata={"severity": rule.severity.value, "suite": suite.name},
        )
        for rule in suite.rules
    ]


def _selected(context: dg.AssetCheckExecutionContext, keys: dict[str, dg.AssetKey]) -> list[str]:
    """The names (sources, tables) whose checks this run selected."""
    selected = {check_key.asset_key for check_key in context.selected_asset_check_keys}
    return [name for name, key in keys.items() if key in selected]


def _raw_export_checks(thresholds: QualityThresholds) -> dg.AssetChecksDefinition:
    """One step validates every selected raw export: one GE session and one Data Docs build a run,
    not one per export (each costs seconds whatever the data). Subsettable: a run that loads only
    some sources validates only theirs."""
    keys = {contract.name: raw_asset_key(contract) for contract in SOURCE_CONTRACTS}
    specs = [spec for source, key in keys.items() for spec in _specs(key, raw_export_suite(source, thresholds.for_source(source)))]

    @dg.multi_asset_check(
        name="raw_exports_quality", specs=specs, can_subset=True, pool=WAREHOUSE_POOL,
        description="Great Expectations suites raw_<source> on the partitions loaded or failing since their last validation.",
    )
    def raw_exports_quality(context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource, quality: QualityGatesParam) -> Iterator[dg.AssetCheckResult]:
        sources = _selected(context, keys)
        today = datetime.now(timezone.utc).date()
        run_id = context.run.run_id
        with warehouse.get_connection() as connection:
            currencies = fx_currencies(connection)
            planned = {}
            for source in sources:
                limits = quality.thresholds.for_source(source)
                days = partitions_to_validate(connection, source)
                planned[source] = (raw_export_suite(source, limits, currencies), days,
                                   build_raw_export_batches(connection, source, days, limits, today))
        outcomes = validate_suites([(suite, batches) for suite, _, batches in planned.values()], quality.project_path, run_id)
        with warehouse.get_connection() as connection:
            for source, (suite, days, _) in planned.items():
                passed = all(o.passed for o in outcomes[suite.name] if o.rule.severity is Severity.BLOCKING)
                record_verdicts(connection, source, days, passed, run_id)
                context.log.info(f"{suite.name}: {len(days)} partitions validated, blocking rules {'passed' if passed else 'FAILED'}")
                validated = {"partitions_validated": len(days), "partition_range": f"{min(days)} … {max(days)}" if days else "none"}
                shareable = next(c.shareable for c in SOURCE_CONTRACTS if c.name == source)
                for outcome in outcomes[suite.name]:
                    extra = offending_raw_rows(connection, f"raw.{source}", outcome, shareable) if not outcome.passed else {}
                    yield check_result(keys[source], outcome, quality, {**validated, **extra}, shareable)

    return raw_exports_quality


def _feature_table_checks(thresholds: QualityThresholds) -> dg.AssetChecksDefinition:
    """The suites on the feature tables, in one step after dbt builds them: a blocking failure
    keeps their Parquet export, the Feast registry and the online store where they were."""
    keys = {table: dg.AssetKey(["features", table]) for table in FEATURE_TABLE_RULES}
    specs = [spec for table, key in keys.items() for spec in _specs(key, feature_table_suite(table, thresholds.features))]

    @dg.multi_asset_check(
        name="feature_tables_quality", specs=specs, can_subset=True, pool=WAREHOUSE_POOL,
        description="Great Expectations suites features_<table> on every customer's latest feature row.",
    )
    def feature_tables_quality(context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource, quality: QualityGatesParam) -> Iterator[dg.AssetCheckResult]:
        tables = _selected(context, keys)
        with warehouse.get_connection() as connection:
            batches = build_feature_table_batches(connection, tables, quality.project_path)
        suites = {table: feature_table_suite(table, quality.thresholds.features) for table in tables}
        outcomes = validate_suites([(suites[table], batches[table]) for table in tables], quality.project_path, context.run.run_id)
        for table in tables:
            for outcome in outcomes[suites[table].name]:
                yield check_result(keys[table], outcome, quality)

    return feature_tables_quality


def _suite_checks(
    name: str, asset_key: dg.AssetKey, suite: Suite,
    build: Callable[[QualityGates, object], tuple[Suite, dict[str, Batch]]], additional_deps: list[dg.AssetKey] = (),
    shareable: tuple[str, ...] = (),
) -> dg.AssetChecksDefinition:
    @dg.multi_asset_check(
        name=name, specs=_specs(asset_key, suite, list(additional_deps)), pool=WAREHOUSE_POOL,
        description=f"Great Expectations suite {suite.name}.",
    )
    def suite_quality(context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource, quality: QualityGatesParam) -> Iterator[dg.AssetCheckResult]:
        with warehouse.get_connection() as connection:
            current_suite, batches = build(quality, connection)
        for outcome in validate_batches(current_suite, batches, quality.project_path, context.run.run_id):
            yield check_result(asset_key, outcome, quality, shareable=shareable)

    return suite_quality
