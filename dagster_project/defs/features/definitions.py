"""The feature store stage: Parquet for Feast's offline store, the registry, the online store."""

from __future__ import annotations

import dagster as dg

from dagster_project.defs.features.assets import feature_store_assets
from dagster_project.defs.features.resources import FeatureStoreResource
from dagster_project.settings import Settings


def feature_store_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(assets=feature_store_assets(), resources={"feature_store": FeatureStoreResource(settings)})
