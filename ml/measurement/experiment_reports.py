"""Lift reports of every experiment in the warehouse: its assignments (`marts.fct_experiment_assignments`),
the orders of its customers (`marts.fct_orders`), pre-period covariates from the feature store as
they were at each customer's assignment, and the CLV model's latest predictions.

The nightly asset and `cxp eval lift` both call `build_lift_reports`; neither needs Dagster.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl

from ml.labels import cutoff_timestamp, read_data_span
from ml.measurement.experiment_settings import MeasurementSettings
from ml.measurement.lift_report import CUPED_COVARIATES, ExperimentLift, customer_outcomes, experiment_lift, lift_rows

if TYPE_CHECKING:
    from feast import FeatureStore

ASSIGNMENTS_TABLE = "marts.fct_experiment_assignments"
LOG_SUMMARY_TABLE = "marts.experiment_log_summary"
# The feature view the CUPED covariates come from (a customer's orders and net revenue of the 365 days before).
COVARIATE_VIEW = "customer_purchase"


@dataclass(frozen=True)
class ExperimentReport:
    """One experiment's report, or why there is none."""

    experiment_id: str
    name: str | None
    configured: bool
    lift: ExperimentLift | None
    log: dict[str, Any] = field(default_factory=dict)
    """The experiment's row of `marts.experiment_log_summary`."""
    skipped: str | None = None


def read_log_summaries(connection: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every logged experiment's counts; empty when the marts are not built yet."""
    try:
        return connection.sql(f"SELECT * FROM {LOG_SUMMARY_TABLE} ORDER BY experiment_id").pl()
    except duckdb.CatalogException:
        return pl.DataFrame()


def read_orders(connection: duckdb.DuckDBPyConnection, experiment_id: str) -> pl.DataFrame:
    """The orders of the experiment's customers: placed, with their net revenue in USD (a cancelled or
    voided order earned nothing)."""
    return _frame(connection, f"""
        SELECT orders.customer_id, orders.created_at,
               CASE WHEN orders.is_cancelled OR orders.financial_status = 'voided' THEN 0
                    ELSE coalesce(orders.net_amount_usd, 0) END::DOUBLE AS revenue_usd
        FROM marts.fct_orders AS orders
        WHERE orders.customer_id IN (SELECT customer_id FROM {ASSIGNMENTS_TABLE} WHERE experiment_id = $experiment)
    """, {"experiment": experiment_id})


def read_assignments(connection: duckdb.DuckDBPyConnection, experiment_id: str) -> pl.DataFrame:
    """The analyzable customers of one experiment: `customer_id`, `arm`, `assigned_at`."""
    return _frame(connection, f"""
        SELECT customer_id, variation_id AS arm, assigned_at FROM {ASSIGNMENTS_TABLE}
        WHERE experiment_id = $experiment AND is_analyzable ORDER BY customer_id
    """, {"experiment": experiment_id})


def _frame(connection: duckdb.DuckDBPyConnection, sql: str, parameters: dict[str, Any]) -> pl.DataFrame:
    return connection.sql(sql, params=parameters).pl()


def features_at_assignment(store: FeatureStore, customers: pl.DataFrame, feature_refs: list[str]) -> pl.DataFrame:
    """`customers` (`customer_id`, `assigned_at`, ...) with every feature of `feature_refs` as the store
    knew it at their assignment (point in time: never a value computed after it)."""
    entity_rows = customers.with_columns(pl.col("assigned_at").dt.replace_time_zone("UTC").alias("event_timestamp"))
    job = store.get_historical_features(entity_df=entity_rows.to_pandas(), features=feature_refs)
    frame = pl.from_arrow(job.to_arrow())
    assert isinstance(frame, pl.DataFrame)
    return frame.drop("event_timestamp").sort("customer_id")


def pre_period_covariates(store: FeatureStore, assignments: pl.DataFrame) -> pl.DataFrame:
    """Each customer's covariates at their assignment, e.g. `orders_365d` and `net_revenue_usd_365d`."""
    names = sorted(set(CUPED_COVARIATES.values()))
    frame = features_at_assignment(store, assignments.select("customer_id", "assigned_at"), [f"{COVARIATE_VIEW}:{name}" for name in names])
    # No purchase snapshot before the assignment means no purchase seen: 0, not "unknown".
    return frame.select("customer_id", *(pl.col(name).cast(pl.Float64).fill_null(0.0) for name in names))


def read_predicted_clv(scores_file: Path | None, column: str) -> pl.DataFrame | None:
    """The CLV model's latest predictions (`customer_id`, `clv_predicted`), when scores exist."""
    if scores_file is None or not scores_file.exists():
        return None
    scores = pl.read_parquet(scores_file, columns=["customer_id", column])
    return scores.select("customer_id", pl.col(column).cast(pl.Float64).alias("clv_predicted"))


def build_lift_reports(connection: duckdb.DuckDBPyConnection, settings: MeasurementSettings, store: FeatureStore | None = None,
                       scores_file: Path | None = None, clv_score_column: str = "expected_value_usd") -> list[ExperimentReport]:
    """A report per experiment in the assignment logs, measured to the end of the newest extract day.

    A configured experiment (settings `experiments`) uses its control, shares, horizon and primary
    metric; one known only from a log uses `logged_experiments`. Without `store`, no CUPED."""
    summaries = read_log_summaries(connection)
    if summaries.is_empty():
        return []
    as_of = cutoff_timestamp(read_data_span(connection).last_date).replace(tzinfo=None)
    predicted = read_predicted_clv(scores_file, clv_score_column)
    reports = []
    for log in summaries.iter_rows(named=True):
        reports.append(_report(connection, settings, store, predicted, log, as_of))
    return reports


def _report(connection: duckdb.DuckDBPyConnection, settings: MeasurementSettings, store: FeatureStore | None,
            predicted: pl.DataFrame | None, log: dict[str, Any], as_of: datetime) -> ExperimentReport:
    experiment_id = log["experiment_id"]
    configured = settings.experiments.get(experiment_id)
    name = configured.name if configured else log.get("experiment_name")
    assignments = read_assignments(connection, experiment_id)
    arms = sorted(set(assignments["arm"]))
    control: str | None
    shares: dict[str, float] | None
    if configured:
        control, shares = configured.control, configured.arms
        horizon, primary = configured.horizon_days, configured.primary_metric
    else:
        defaults = settings.logged_experiments
        control = next((arm for arm in defaults.control_arms if arm in arms), None)
        shares, horizon, primary = None, defaults.horizon_days, defaults.primary_metric
    left_out = {"rows with an id no record carries": log["unknown_id_rows"],
                "rows with an email several customers share": log["shared_id_rows"],
                "customers logged in more than one arm": log["customers_in_several_arms"]}
    if assignments.is_empty():
        reasons = "; ".join(f"{count:,} {reason}" for reason, count in left_out.items() if count) or "none matched"
        return ExperimentReport(experiment_id, name, configured is not None, None, log, f"no customer left to analyze ({reasons})")
    if control is None or control not in arms or len(arms) < 2:
        why = (f"no control arm among {', '.join(arms) or 'no arms'} (control is one of "
               f"{', '.join(settings.logged_experiments.control_arms)} unless `experiments.{experiment_id}.control` says otherwise)"
               if control is None or control not in arms else f"one arm only ({', '.join(arms)}): nothing to compare")
        return ExperimentReport(experiment_id, name, configured is not None, None, log, why)
    outcomes = customer_outcomes(assignments, read_orders(connection, experiment_id), horizon, as_of)
    if predicted is not None:
        outcomes = outcomes.join(predicted, on="customer_id", how="left")
    covariates = pre_period_covariates(store, assignments) if store is not None else None
    lift = experiment_lift(experiment_id, outcomes, control=control, horizon_days=horizon, as_of=as_of, primary_metric=primary,
                           shares=shares, covariates=covariates, left_out=left_out)
    return ExperimentReport(experiment_id, name, configured is not None, lift, log)


def write_report_files(report: ExperimentReport, folder: Path) -> list[Path]:
    """`lift.csv` (one row per arm and metric) and `report.json` (the summary) in the experiment's folder."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    summary: dict[str, Any] = {"experiment_id": report.experiment_id, "name": report.name, "configured": report.configured,
                               "skipped": report.skipped, "log": {key: str(value) if isinstance(value, datetime) else value
                                                                  for key, value in report.log.items()}}
    if report.lift is not None:
        lift = report.lift
        table = lift_rows(lift)
        table.write_csv(folder / "lift.csv")
        written.append(folder / "lift.csv")
        summary |= {"control": lift.control, "horizon_days": lift.horizon_days, "as_of": lift.as_of.isoformat(),
                    "customers_per_arm": lift.customers_per_arm, "horizon_complete_share": lift.horizon_complete_share,
                    "primary_metric": lift.primary_metric, "sample_ratio": lift.sample_ratio.message,
                    "sample_ratio_mismatch": lift.sample_ratio.mismatch, "aa_p_value": lift.aa.p_value,
                    "aa_flagged": lift.aa_flagged, "left_out": lift.left_out, "notes": lift.notes}
    (folder / "report.json").write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    written.append(folder / "report.json")
    return written
