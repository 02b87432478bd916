"""The model stage: challengers, champions, scores, product recommendations, and a job to run them alone."""

from __future__ import annotations

import dagster as dg

from dagster_project.defs.ml.assets import model_assets
from dagster_project.defs.ml.recommendation_assets import product_recommendations
from dagster_project.defs.ml.resources import ModelRegistryResource
from dagster_project.settings import Settings


def model_definitions(settings: Settings) -> dg.Definitions:
    registry = ModelRegistryResource(settings)
    models_job = dg.define_asset_job(
        "cxp_models", selection=dg.AssetSelection.groups("ml"),
        description="Train, evaluate, promote and score without reloading data (the nightly pipeline runs these too).")
    assets = [*model_assets(registry.model_settings().labels), product_recommendations]
    return dg.Definitions(assets=assets, jobs=[models_job], resources={"model_registry": registry})
