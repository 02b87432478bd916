"""Feature store assets: the Parquet files Feast reads, the registry, and the online store.

Order in a run: dbt builds the feature snapshots (after the marts' gates), their changed days are
exported as Parquet, the Feast definitions are applied when they changed, the models train and
score from them, the recommender lists products, and then the night is published online in one
step: the feature rows that changed since the last publication, the new scores and
recommendations, and the removal of ids a merge retired.
"""


import hashlib
import json
from datetime import datetime, timedelta, timezone

import dagster as dg
from dagster_duckdb import DuckDBResource

from dagster_project.defs.features.resources import FeatureStoreParam
from dagster_project.defs.ingest.assets import WAREHOUSE_POOL
from feature_repo.feature_files import export_feature_table
from feature_repo.online_store import latest_nightly_dates, latest_scores_date, publish_online
from ml.measurement.next_best_action import NEXT_BEST_ACTIONS_TABLE
from ml.recommendations.recommendation_files import RECOMMENDATIONS_TABLE, SIMILAR_PRODUCTS_TABLE

FEATURE_TABLES = ("customer_purchase_features", "customer_email_features", "customer_support_features", "customer_profile_features")
OFFLINE_FILES = dg.AssetKey(["feature_store", "offline_files"])
REGISTRY = dg.AssetKey(["feature_store", "registry"])
ONLINE_STORE = dg.AssetKey(["feature_store", "online_store"])
# Defined by the ml stage, which reads this stage's files and registry.
CUSTOMER_SCORES = dg.AssetKey(["ml", "customer_scores"])
PRODUCT_RECOMMENDATIONS = dg.AssetKey(["ml", "product_recommendations"])
NEXT_BEST_ACTIONS = dg.AssetKey(["measurement", "next_best_actions"])


@dg.asset(
    key=OFFLINE_FILES, group_name="feature_store", pool=WAREHOUSE_POOL, kinds={"parquet", "duckdb"},
    deps=[dg.AssetKey(["features", table]) for table in FEATURE_TABLES],
    description="The feature snapshot tables as Parquet, one file per table and snapshot date, for Feast's offline store.",
)
def feature_offline_files(context: dg.AssetExecutionContext, warehouse: DuckDBResource, feature_store: FeatureStoreParam) -> dg.MaterializeResult:
    root = feature_store.settings().feature_files_dir
    exports = []
    with warehouse.get_connection() as connection:
        for table in FEATURE_TABLES:
            exports.append(export_feature_table(connection, table, root))
    for export in exports:
        context.log.info(f"{export.table}: {len(export.dates_written)} day(s) written ({export.rows_written:,} rows), "
                         f"{len(export.dates_removed)} removed; {export.total_rows:,} rows over {export.total_dates} days")
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(root)),
        "rows_written": sum(export.rows_written for export in exports),
        "days_written": sum(len(export.dates_written) for export in exports),
        "total_rows": sum(export.total_rows for export in exports),
        "latest_snapshot_date": str(max((e.latest_snapshot_date for e in exports if e.latest_snapshot_date), default=None)),
        **{f"{export.table}_rows": export.total_rows for export in exports},
    })


def _definitions_fingerprint(objects: list) -> str:
    """A digest of the registered form of every object: it changes exactly when a definition does."""
    digest = hashlib.sha256()
    for item in sorted(objects, key=lambda item: (type(item).__name__, item.name)):
        proto = item.to_proto()
        spec = getattr(proto, "spec", proto)
        digest.update(type(item).__name__.encode() + spec.SerializeToString(deterministic=True))
    return digest.hexdigest()


@dg.asset(
    key=REGISTRY, group_name="feature_store", kinds={"feast"}, deps=[OFFLINE_FILES],
    description="The Feast registry: entity, feature views, on-demand views and feature services. Applied when a definition changes.",
)
def feast_registry(context: dg.AssetExecutionContext, feature_store: FeatureStoreParam) -> dg.MaterializeResult:
    from feature_repo.atomic_registry_store import set_aside_unreadable_registry
    from feature_repo.definitions import feature_store_objects

    settings = feature_store.settings()
    objects = feature_store_objects(settings)
    fingerprint = _definitions_fingerprint(objects)
    marker = settings.feature_store_dir / "applied_definitions.json"
    applied = json.loads(marker.read_text())["fingerprint"] if marker.exists() else None
    unreadable = set_aside_unreadable_registry(settings.feature_store_dir / "registry.db")
    if unreadable is not None:
        context.log.warning(f"The Feast registry did not parse (a disk fault, or a copy cut short): kept as {unreadable}, "
                            "and rebuilt from the definitions.")
    registry_exists = (settings.feature_store_dir / "registry.db").exists()
    if fingerprint != applied or not registry_exists:
        feature_store.open().apply(objects)
        marker.write_text(json.dumps({"fingerprint": fingerprint, "applied_at": datetime.now(timezone.utc).isoformat()}))
        context.log.info(f"Applied {len(objects)} Feast objects (definitions {fingerprint[:12]}).")
        changed = True
    else:
        context.log.info("Feast definitions unchanged; nothing applied.")
        changed = False
    return dg.MaterializeResult(metadata={
        "definitions_fingerprint": fingerprint, "applied": changed, "objects": len(objects),
        "unreadable_registry_set_aside": str(unreadable) if unreadable else "none",
        "feature_views": dg.MetadataValue.json(sorted(o.name for o in objects if type(o).__name__ == "FeatureView")),
        "feature_services": dg.MetadataValue.json(sorted(o.name for o in objects if type(o).__name__ == "FeatureService")),
    })


@dg.asset(
    key=ONLINE_STORE, group_name="feature_store", kinds={"feast", "sqlite"},
    deps=[REGISTRY, CUSTOMER_SCORES, PRODUCT_RECOMMENDATIONS, NEXT_BEST_ACTIONS, dg.AssetKey(["identity", "retired_customer_ids"])],
    pool=WAREHOUSE_POOL,
    description="Feast's online store: each customer's latest features, scores, recommendations and next-best action, and "
                "each product's similar products. A night is published in one transaction (the feature rows that changed, the new "
                "scores, lists and actions, the removal of ids a merge retired): apps are served the previous night until it commits,"
                " and a failed or killed run leaves the previous night served.",
    freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=36), warn_window=timedelta(hours=26)),
)
def feast_online_store(context: dg.AssetExecutionContext, warehouse: DuckDBResource, feature_store: FeatureStoreParam) -> dg.MaterializeResult:
    settings = feature_store.settings()
    with warehouse.get_connection() as connection:
        retired = [row[0] for row in connection.sql("SELECT retired_customer_id FROM identity.retired_customer_ids").fetchall()]
    scored_on = latest_scores_date(settings)
    if scored_on is None:
        context.log.warning(f"No scores in {settings.feature_files_dir} yet: the features are published without them.")
    recommended = latest_nightly_dates(settings)
    for table in sorted({RECOMMENDATIONS_TABLE, SIMILAR_PRODUCTS_TABLE, NEXT_BEST_ACTIONS_TABLE} - set(recommended)):
        context.log.warning(f"No {table.replace('_', ' ')} in {settings.feature_files_dir} yet: the features are published without them.")
    published = publish_online(feature_store.open(), settings, retired, scored_on, recommended)
    for write in published.writes:
        context.log.info(f"{write.feature_view}: published ({published.mode}) snapshots {write.start:%Y-%m-%d} … {write.end:%Y-%m-%d}")
    context.log.info(f"Removed {published.retired_rows_removed} rows of {len(retired)} retired ids.")
    newest = max((write.end for write in published.writes), default=None)
    return dg.MaterializeResult(metadata={
        "mode": published.mode,
        "feature_views_written": dg.MetadataValue.json({write.feature_view: [write.start.isoformat(), write.end.isoformat()]
                                                        for write in published.writes}),
        "newest_feature_timestamp": newest.isoformat() if newest else "unchanged",
        "scored_on": str(scored_on) if scored_on else "none",
        "recommended_on": str(recommended.get(RECOMMENDATIONS_TABLE, "none")),
        "similar_products_on": str(recommended.get(SIMILAR_PRODUCTS_TABLE, "none")),
        "next_best_actions_on": str(recommended.get(NEXT_BEST_ACTIONS_TABLE, "none")),
        "retired_customer_ids": len(retired),
        "retired_rows_removed": published.retired_rows_removed,
        "online_store": settings.online_store,
    })


def feature_store_assets() -> list[dg.AssetsDefinition]:
    return [feature_offline_files, feast_registry, feast_online_store]
