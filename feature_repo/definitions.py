"""Every Feast object of the repository, built for one configuration of cxp."""

from __future__ import annotations

from feast import FeatureStore

from dagster_project.settings import Settings
from feature_repo.customer_scores import build_customer_scores_view, ensure_scores_readable
from feature_repo.entities import customer, product
from feature_repo.feature_catalog import load_feature_tables
from feature_repo.feature_services import build_feature_services
from feature_repo.feature_views import build_feature_view
from feature_repo.next_best_action_view import build_next_best_action_view, ensure_next_best_actions_readable
from feature_repo.on_demand_features import build_on_demand_views
from feature_repo.recommendation_views import build_customer_recommendations_view, build_similar_products_view, ensure_recommendations_readable
from ml.model_catalog import MODELS


def feature_store_objects(settings: Settings) -> list:
    """The entities, the feature views over this configuration's Parquet files (the models' scores
    and the recommendations among them), the derived views and the feature services: what
    `FeatureStore.apply` registers (the next-best actions too)."""
    views = {spec.feature_view: build_feature_view(spec, settings.feature_files_dir) for spec in load_feature_tables(settings.dbt_project_dir)}
    derived = build_on_demand_views(views)
    ensure_scores_readable(settings.feature_files_dir)
    ensure_recommendations_readable(settings.feature_files_dir)
    ensure_next_best_actions_readable(settings.feature_files_dir)
    labels = settings.model_settings.labels
    scores = build_customer_scores_view(settings.feature_files_dir, {model: labels.horizon_days(model) for model in MODELS})
    recommendations = build_customer_recommendations_view(settings.feature_files_dir)
    similar = build_similar_products_view(settings.feature_files_dir)
    actions = build_next_best_action_view(settings.feature_files_dir)
    return [customer, product, *views.values(), scores, recommendations, similar, actions, *derived,
            *build_feature_services(views, derived, scores, recommendations, similar, actions)]


def open_feature_store(settings: Settings) -> FeatureStore:
    """The Feast store of this configuration (its registry, offline files and online store)."""
    settings.export_environment()
    return FeatureStore(repo_path=str(settings.feature_repo_dir), fs_yaml_file=settings.feature_store_yaml)
