"""Measured impact: cxp's own assignments (the holdout, configured experiments), the lift report
of every experiment in the assignment logs, and the next-best actions learned from them.

One asset reports every experiment: experiments come from the data (another tool's log names
them), and Dagster's asset keys are fixed when the code location loads. Each experiment gets its
own section, table and plot in the materialization, and its own folder of files.
"""

from datetime import datetime, timezone

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from dagster_project.defs.features.assets import CUSTOMER_SCORES, NEXT_BEST_ACTIONS, REGISTRY
from dagster_project.defs.features.resources import FeatureStoreParam
from dagster_project.defs.ingest.assets import WAREHOUSE_POOL

EXPERIMENT_LIFT = dg.AssetKey(["measurement", "experiment_lift"])
ASSIGNMENTS = dg.AssetKey(["measurement", "assignments"])
ASSIGNMENT_SOURCES = [dg.AssetKey(["marts", "dim_customers"]), dg.AssetKey(["marts", "customer_id_lookup"]),
                      dg.AssetKey(["marts", "fct_orders"])]


@dg.asset(key=ASSIGNMENTS, group_name="measurement", kinds={"duckdb"}, pool=WAREHOUSE_POOL, deps=ASSIGNMENT_SOURCES,
          description="The global personalization holdout and the configured experiments' arms: drawn once per customer by "
                      "salted hash, appended to measurement.assignments with the time, never reshuffled. On an identity merge "
                      "the surviving customer keeps its own assignment, or takes the earliest of the ids merged into it. "
                      "Scores and recommendations read it: the holdout is served nothing personal. Writes an audience "
                      "file per experiment for the email tool: <CXP_HOME>/measurement/audiences/<experiment_id>.csv.")
def assignments(context: dg.AssetExecutionContext, warehouse: DuckDBResource, feature_store: FeatureStoreParam) -> dg.MaterializeResult:
    from ml.measurement.assignment_ledger import HOLDOUT, holdout_customers, read_customers, record_assignments
    from ml.measurement.audience_files import write_audience_files

    platform = feature_store.settings()
    settings = platform.measurement_settings
    with warehouse.get_connection() as connection:
        customers, retired = read_customers(connection)
        update = record_assignments(connection, settings, datetime.now(timezone.utc), customers, retired)
        held = len(holdout_customers(connection))
        audiences = write_audience_files(connection, platform.measurement_dir / "audiences")
    context.log.info(f"Assignments: {sum(update.added.values()):,} new, {sum(update.inherited.values()):,} inherited through merges; "
                     f"{held:,} of {update.customers:,} customers in the holdout")
    return dg.MaterializeResult(metadata={
        "customers": update.customers, "in_holdout": held, "holdout_share": settings.holdout.share,
        "added": dg.MetadataValue.json(update.added), "inherited_through_merges": dg.MetadataValue.json(update.inherited),
        "experiments_assigning": dg.MetadataValue.json([name for name in update.added if name != HOLDOUT]),
        "audience_files": dg.MetadataValue.json({name: str(path) for name, path in audiences.items()}),
    })
EXPERIMENT_MARTS = [dg.AssetKey(["marts", "fct_experiment_assignments"]), dg.AssetKey(["marts", "experiment_log_summary"]),
                    dg.AssetKey(["marts", "fct_orders"])]


@dg.asset(key=EXPERIMENT_LIFT, group_name="measurement", kinds={"duckdb", "feast"}, pool=WAREHOUSE_POOL,
          deps=[*EXPERIMENT_MARTS, REGISTRY, CUSTOMER_SCORES],
          description="Per experiment of the assignment logs: conversion, repeat purchase, retention, revenue per customer, "
                      "AOV and CLV (realized and predicted) per arm against control, with 95% intervals and p-values, plain "
                      "and CUPED-adjusted (pre-period covariates from the feature store), the sample-ratio check and an A/A "
                      "split of control. Files per experiment under <CXP_HOME>/measurement/<experiment_id>/.")
def experiment_lift(context: dg.AssetExecutionContext, warehouse: DuckDBResource, feature_store: FeatureStoreParam) -> dg.MaterializeResult:
    from ml.measurement.experiment_reports import build_lift_reports, write_report_files
    from ml.measurement.lift_text import lift_markdown
    from ml.model_catalog import MODELS
    from ml.nightly_files import latest_scoring_date
    from ml.score_files import SCORES_TABLE

    settings = feature_store.settings()
    scored_on = latest_scoring_date(settings.feature_files_dir, SCORES_TABLE)
    scores = settings.feature_files_dir / SCORES_TABLE / scored_on.isoformat() / "data_0.parquet" if scored_on else None
    with warehouse.get_connection() as connection:
        reports = build_lift_reports(connection, settings.measurement_settings, feature_store.open(), scores, MODELS["clv"].score)
    if not reports:
        context.log.info("No experiment assignment log loaded (experiments/assignments): nothing to measure.")
        return dg.MaterializeResult(metadata={"experiments": 0})
    metadata: dict[str, dg.MetadataValue | int | str] = {"experiments": len(reports)}
    for report in reports:
        write_report_files(report, settings.measurement_dir / report.experiment_id)
        metadata[f"experiment {report.experiment_id}"] = dg.MetadataValue.md(lift_markdown(report))
        lift = report.lift
        if lift is None:
            context.log.warning(f"Experiment {report.experiment_id}: not measured: {report.skipped}")
            continue
        if lift.sample_ratio.mismatch:
            context.log.warning(f"Experiment {report.experiment_id}: {lift.sample_ratio.message}")
        if lift.aa_flagged:
            context.log.warning(f"Experiment {report.experiment_id}: the A/A split of control differs (p = {lift.aa.p_value:.3f})")
        context.log.info(f"Experiment {report.experiment_id}: " + ", ".join(f"{arm} {n:,}" for arm, n in lift.customers_per_arm.items()))
    metadata["path"] = dg.MetadataValue.path(str(settings.measurement_dir))
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(key=NEXT_BEST_ACTIONS, group_name="measurement", kinds={"xgboost", "parquet"}, pool=WAREHOUSE_POOL,
          deps=[*EXPERIMENT_MARTS, dg.AssetKey(["marts", "fct_email_events"]), REGISTRY, ASSIGNMENTS],
          description="Per customer, the configured action (CXP_EXPERIMENT_SETTINGS `next_best_action`) expected to add the most "
                      "revenue net of its cost, with its reason: each action's uplift is learned (T- or X-learner on xgboost, "
                      "judged by cross-fitted Qini) from the newest experiment arm that gave it, with features as they were at "
                      "assignment; the holdout, opt-outs, email consent, the contact-frequency cap and the budget apply. Served "
                      "online as the `next_best_actions` view; the cross-fitted effects and a report under "
                      "<CXP_HOME>/measurement/next_best_actions/.")
def next_best_actions(context: dg.AssetExecutionContext, warehouse: DuckDBResource, feature_store: FeatureStoreParam) -> dg.MaterializeResult:
    from ml.measurement.nightly_actions import plan_nightly_actions, write_nightly_actions

    settings = feature_store.settings()
    with warehouse.get_connection() as connection:
        night = plan_nightly_actions(connection, feature_store.open(), settings.measurement_settings)
    path = write_nightly_actions(night, settings.feature_files_dir, settings.measurement_dir / "next_best_actions",
                                 settings.model_settings.scoring.keep_days)
    for action, why in night.not_learned.items():
        context.log.warning(f"Action {action}: not learned, so never chosen: {why}")
    for action, model in night.learned.items():
        context.log.info(f"Action {action}: {model.version}; cross-fitted Qini " +
                         ", ".join(f"{name} ${value:,.0f}" for name, value in model.qini.items()))
    summary = night.summary.with_columns(pl.col("expected_incremental_value", "spend_usd").round(2))
    return dg.MaterializeResult(metadata={
        "customers": night.choices.height,
        "as_of": str(night.as_of),
        "actions": dg.MetadataValue.md(summary.to_pandas().to_markdown(index=False)),
        "expected_incremental_value_usd": round(float(night.summary["expected_incremental_value"].sum()), 2),
        "learned_from": dg.MetadataValue.json({name: model.version for name, model in night.learned.items()}),
        "cross_fitted_qini_usd": dg.MetadataValue.json({name: model.qini for name, model in night.learned.items()}),
        "not_learned": dg.MetadataValue.json(night.not_learned),
        "path": dg.MetadataValue.path(str(path)),
    })
