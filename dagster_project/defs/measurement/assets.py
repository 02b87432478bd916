"""Measured impact: the lift report of every experiment in the assignment logs.

One asset reports every experiment: experiments come from the data (another tool's log names
them), and Dagster's asset keys are fixed when the code location loads. Each experiment gets its
own section, table and plot in the materialization, and its own folder of files.
"""


import dagster as dg
from dagster_duckdb import DuckDBResource

from dagster_project.defs.features.assets import CUSTOMER_SCORES, REGISTRY
from dagster_project.defs.features.resources import FeatureStoreParam
from dagster_project.defs.ingest.assets import WAREHOUSE_POOL

EXPERIMENT_LIFT = dg.AssetKey(["measurement", "experiment_lift"])
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
    from ml.recommendations.recommendation_files import latest_scoring_date
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
