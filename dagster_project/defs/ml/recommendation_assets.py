"""The nightly recommendation stage as an asset: thin wiring around ml.recommendations."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from dagster_project.defs.features.assets import OFFLINE_FILES, PRODUCT_RECOMMENDATIONS, REGISTRY
from dagster_project.defs.features.resources import FeatureStoreParam
from dagster_project.defs.ingest.assets import WAREHOUSE_POOL
from dagster_project.defs.measurement.assets import ASSIGNMENTS
from dagster_project.defs.ml.resources import ModelRegistryParam

# After the feature gates, like the models: a blocking gate upstream keeps last night's lists served.
_SOURCES = [OFFLINE_FILES, REGISTRY, ASSIGNMENTS,
            *(dg.AssetKey(["marts", name]) for name in ("fct_order_lines", "fct_orders", "dim_products", "dim_customers"))]


@dg.asset(key=PRODUCT_RECOMMENDATIONS, group_name="ml", kinds={"xgboost", "parquet"}, pool=WAREHOUSE_POOL, deps=_SOURCES,
          description="Each customer's top 10 products with a reason per item, and each SKU's similar products: candidates "
                      "from ALS, co-purchase, content and interests, buy-again and popularity, ranked by an xgboost "
                      "learning-to-rank hybrid that must beat popularity and the champion out of time, then filtered by "
                      "the business rules. Written as the `customer_recommendations` and `similar_products` views' Parquet.")
def product_recommendations(context: dg.AssetExecutionContext, warehouse: DuckDBResource, feature_store: FeatureStoreParam,
                            model_registry: ModelRegistryParam) -> dg.MaterializeResult:
    from ml.evaluation_plots import method_comparison_png, png_markdown
    from ml.labels import cutoff_timestamp, read_data_span
    from ml.recommendations.nightly_recommendations import recommend_nightly
    from ml.recommendations.recommendation_files import write_recommendations, write_similar_products
    from ml.recommendations.recommendation_report import served_coverage
    from ml.recommendations.recommender_card import metrics_table
    from ml.recommendations.warehouse_inputs import read_inputs

    with warehouse.get_connection() as connection:
        scored_on = read_data_span(connection).last_date
        inputs = read_inputs(connection, cutoff_timestamp(scored_on))
    night = recommend_nightly(inputs, model_registry.registry(), scored_on)
    files = feature_store.settings().feature_files_dir
    keep_days = model_registry.model_settings().scoring.keep_days
    lists_path = write_recommendations(night.lists, scored_on, files, keep_days)
    write_similar_products(night.similar, scored_on, files, keep_days)
    evaluation = night.evaluation
    if night.decision is None:
        context.log.warning("Too few buyers in the last 30 days to train the hybrid: the champion (or popularity) lists.")
    else:
        context.log.info(f"recommender {night.version}: {night.decision.reason}")
    personalized = int(night.lists["recommendations_personalized"].sum()) if night.lists.height else 0
    metadata: dict[str, dg.RawMetadataValue] = {
        "scored_on": str(scored_on), "customers": night.lists.height, "personalized": personalized,
        "not_personalized": night.lists.height - personalized, "skus_with_similar_products": night.similar.height,
        "scorer": night.scorer, "version": night.version or "none trained",
        "decision": night.decision.reason if night.decision else "none", "path": dg.MetadataValue.path(str(lists_path)),
        "seconds": dg.MetadataValue.json(night.seconds),
        "served_catalog_coverage": served_coverage(night.lists, inputs.products),
    }
    if evaluation is not None and evaluation.customers:
        metrics = evaluation.metrics
        metadata |= {"evaluation": dg.MetadataValue.md(metrics_table(metrics)), "customers_judged": evaluation.customers,
                     **{f"ndcg_at_10_{name}": float(values["ndcg_at_k"]) for name, values in metrics.items()},
                     "ndcg_plot": dg.MetadataValue.md(png_markdown(method_comparison_png(
                         {name: values["ndcg_at_k"] for name, values in metrics.items()},
                         f"NDCG@10 out of time, {evaluation.judge_days} days from {evaluation.cutoff}", "NDCG@10"), "NDCG@10"))}
    return dg.MaterializeResult(metadata=metadata)
