"""Every Feast object of the repository, built for one configuration of cxp."""

from __future__ import annotations

from feast import FeatureStore

from dagster_project.settings import Settings
from feature_repo.customer_scores import build_customer_scores_view, ensure_scores_readable
from feature_repo.entities import customer
from feature_repo.feature_catalog import load_feature_tables
from feature_repo.feature_services import build_feature_services
from feature_repo.feature_views import build_feature_view
from feature_repo.on_demand_features import build_on_demand_views
from ml.model_catalog import MODELS


def feature_store_objects(settings: Settings) -> list:
    """The entity, the feature views over this configuration's Parquet files (the models' scores
    among them), the derived views and the feature services: what `FeatureStore.apply` registers."""
    views = {spec.feature_view: build_feature_view(spec, settings.feature_files_dir) for spec in load_feature_tables(settings.dbt_project_dir)}
    derived = build_on_demand_views(views)
    ensure_scores_readable(settings.feature_files_dir)
    labels = settings.model_settings.labels
    scores = build_customer_scores_view(settings.feature_files_dir, {model: labels.horizon_days(model) for model in MODELS})
    return [customer, *views.values(), scores, *derived, *build_feature_services(views, derived, scores)]


def open_feature_store(settings: Settings) -> FeatureStore:
    """The Feast store of this configuration (its registry, offline files and online store)."""
    settings.export_environment()
    return FeatureStore(repo_path=str(settings.feature_repo_dir), fs_yaml_file=settings.feature_store_yaml)
