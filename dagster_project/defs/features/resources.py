"""The Feast feature store as a Dagster resource."""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg
from feast import FeatureStore

from dagster_project.settings import Settings


@dataclass(frozen=True)
class FeatureStoreResource:
    """Opens the configured Feast store (registry, offline files, online store) with the settings
    the run was built with (assets take it as `dg.ResourceParam[FeatureStoreResource]`)."""

    platform: Settings

    def settings(self) -> Settings:
        return self.platform

    def open(self) -> FeatureStore:
        from feature_repo.definitions import open_feature_store

        return open_feature_store(self.platform)


FeatureStoreParam = dg.ResourceParam[FeatureStoreResource]
