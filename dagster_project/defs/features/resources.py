"""The Feast feature store as a Dagster resource."""

from __future__ import annotations

import dagster as dg
from feast import FeatureStore

from dagster_project.settings import load_settings


class FeatureStoreResource(dg.ConfigurableResource):
    """Opens the configured Feast store (registry, offline files, online store) from cxp's settings."""

    def settings(self):
        return load_settings()

    def open(self) -> FeatureStore:
        from feature_repo.definitions import open_feature_store

        return open_feature_store(self.settings())
