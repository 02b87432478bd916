"""The nightly models: per model a challenger (trained and evaluated out of time) and the champion
decision; then every customer scored by the champions (the online store publishes the scores
with the night's features: `feature_store/online_store`).

All of it runs after the feature tables pass their gates: the assets depend on the feature files
and the Feast registry, which a failed blocking check upstream keeps from materializing.
"""


from datetime import datetime, timezone

import dagster as dg
from dagster_duckdb import DuckDBResource

from dagster_project.defs.features.assets import CUSTOMER_SCORES, OFFLINE_FILES, REGISTRY
from dagster_project.defs.features.resources import FeatureStoreParam
from dagster_project.defs.ingest.assets import WAREHOUSE_POOL
from dagster_project.defs.measurement.assets import ASSIGNMENTS
from dagster_project.defs.ml.evaluation_metadata import evaluation_plots, metrics_table
from dagster_project.defs.ml.resources import ModelRegistryParam
from ml.bias_audit import audit_markdown
from ml.model_catalog import MODELS, ModelSpec
from ml.model_settings import LabelWindows

LABEL_SOURCES = [dg.AssetKey(["marts", "fct_orders"]), dg.AssetKey(["intermediate", "int_customer_order_states"])]


def challenger_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["ml", f"{name}_challenger"])


def champion_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["ml", f"{name}_champion"])


def build_challenger_asset(spec: ModelSpec, horizon_days: int) -> dg.AssetsDefinition:
    @dg.asset(key=challenger_key(spec.name), group_name="ml", kinds={"xgboost", "feast"}, pool=WAREHOUSE_POOL,
              deps=[OFFLINE_FILES, REGISTRY, *LABEL_SOURCES],
              description=f"{spec.describe(horizon_days)} A new xgboost version trained on Feast's `{spec.feature_service}` over monthly "
                          f"cutoffs and evaluated out of time against its baseline ({spec.baseline}) and the champion.")
    def challenger(context: dg.AssetExecutionContext, warehouse: DuckDBResource, feature_store: FeatureStoreParam,
                   model_registry: ModelRegistryParam) -> dg.MaterializeResult:
        from ml.model_training import train_model

        with warehouse.get_connection() as connection:
            outcome = train_model(spec, connection, feature_store.open(), model_registry.model_settings(),
                                  model_registry.registry(), datetime.now(timezone.utc))
        if outcome.version is None:
            context.log.warning(f"{spec.name}: not trained: {outcome.skipped_reason}")
            return dg.MaterializeResult(metadata={"trained": False, "reason": outcome.skipped_reason})
        for flag in outcome.bias_audit["flagged"]:
            context.log.warning(f"{spec.name} {outcome.version} bias audit: {flag}")
        metric = model_registry.model_settings().promotion[spec.name].metric
        context.log.info(f"{spec.name} {outcome.version}: " + ", ".join(
            f"{scorer} {metric} {values[metric]:.4f}" for scorer, values in outcome.metrics.items()))
        return dg.MaterializeResult(metadata={
            "trained": True, "version": outcome.version, "path": dg.MetadataValue.path(str(outcome.folder)),
            "evaluation": dg.MetadataValue.md(metrics_table(outcome)),
            **{f"{metric}_{scorer}": float(values[metric]) for scorer, values in outcome.metrics.items()},
            "cutoffs": dg.MetadataValue.json(outcome.cutoffs), "rows": dg.MetadataValue.json(outcome.rows),
            **evaluation_plots(spec, outcome),
            "bias_audit": dg.MetadataValue.md(audit_markdown(outcome.bias_audit)),
            "bias_flags": dg.MetadataValue.int(len(outcome.bias_audit["flagged"])),
        })

    return challenger


def build_champion_asset(spec: ModelSpec) -> dg.AssetsDefinition:
    @dg.asset(key=champion_key(spec.name), group_name="ml", kinds={"python"}, deps=[challenger_key(spec.name)],
              description=f"The {spec.name} model that scores customers: the challenger replaces it only when it beats it, and "
                          f"its baseline, on the same evaluation rows by the configured margin.")
    def champion(context: dg.AssetExecutionContext, model_registry: ModelRegistryParam) -> dg.MaterializeResult:
        from ml.model_promotion import promote_if_better

        registry = model_registry.registry()
        # Decide on the version this run's challenger trained, if it trained one.
        trained = context.instance.get_latest_materialization_event(challenger_key(spec.name))
        metadata = trained.asset_materialization.metadata if trained and trained.run_id == context.run.run_id else {}
        if "version" not in metadata:
            champion_version = registry.champion(spec.name)
            return dg.MaterializeResult(metadata={"decision": "no new challenger", "champion": champion_version or "none (baseline scores)"})
        version = metadata["version"].value
        decision = promote_if_better(spec, registry, version, model_registry.model_settings().promotion[spec.name])
        context.log.info(f"{spec.name}: {'promoted' if decision.promoted else 'not promoted'}: {decision.reason}")
        return dg.MaterializeResult(metadata={
            "decision": "promoted" if decision.promoted else "champion retired" if decision.retire_champion else "not promoted",
            "reason": decision.reason,
            "challenger": version, "champion": registry.champion(spec.name) or "none (baseline scores)",
            f"{decision.metric}_challenger": decision.challenger,
            f"{decision.metric}_champion": dg.MetadataValue.float(decision.champion) if decision.champion is not None else "none",
            f"{decision.metric}_baseline": dg.MetadataValue.float(decision.baseline) if decision.baseline is not None else "none",
        })

    return champion


@dg.asset(key=CUSTOMER_SCORES, group_name="ml", kinds={"xgboost", "parquet"}, pool=WAREHOUSE_POOL,
          deps=[*(champion_key(name) for name in MODELS), ASSIGNMENTS],
          description="Every current customer scored by the champions (churn, 30-day purchase, 365-day value, P(alive)) with "
                      "their top three reasons, as of the newest extract date: the `customer_scores` feature view's Parquet.")
def customer_scores(context: dg.AssetExecutionContext, warehouse: DuckDBResource, feature_store: FeatureStoreParam,
                    model_registry: ModelRegistryParam) -> dg.MaterializeResult:
    from ml.customer_scoring import score_customers, write_scores

    settings = model_registry.model_settings()
    with warehouse.get_connection() as connection:
        if not connection.execute("SELECT count(*) FROM features.customer_profile_features").fetchall()[0][0]:
            context.log.warning("No customer has a profile yet: nothing to score.")
            return dg.MaterializeResult(metadata={"customers": 0})
        scored = score_customers(connection, feature_store.open(), settings, model_registry.registry())
    scores = scored.frame
    path = write_scores(scores, scored.scored_on, feature_store.settings().feature_files_dir, settings.scoring.keep_days)
    context.log.info(f"Scored {scores.height:,} customers as of {scored.scored_on} with {scored.scorers}")
    for column, reason in scored.not_served.items():
        context.log.warning(f"{column} is served to no customer tonight: {reason}")
    return dg.MaterializeResult(metadata={
        "scored_on": str(scored.scored_on), "customers": scores.height, "path": dg.MetadataValue.path(str(path)),
        "scorers": dg.MetadataValue.json(scored.scorers), "not_served": dg.MetadataValue.json(scored.not_served),
        **{f"mean_{spec.score}": (dg.MetadataValue.float(float(scores[spec.score].mean())) if scores[spec.score].is_not_null().any()
                                  else "none scored") for spec in MODELS.values()},
        "churn_scored": int(scores["churn_probability"].is_not_null().sum()),
    })


def model_assets(labels: LabelWindows) -> list[dg.AssetsDefinition]:
    """The model assets; descriptions say the configured label windows."""
    return [*(build_challenger_asset(spec, labels.horizon_days(spec.name)) for spec in MODELS.values()),
            *(build_champion_asset(spec) for spec in MODELS.values()), customer_scores]
