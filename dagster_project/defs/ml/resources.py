"""The model registry as a Dagster resource."""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from dagster_project.settings import Settings
from ml.model_registry import ModelRegistry
from ml.model_settings import ModelSettings


@dataclass(frozen=True)
class ModelRegistryResource:
    """The file-based model registry and the model settings of the run's configuration, read once
    when the definitions are built (assets take it as `dg.ResourceParam[ModelRegistryResource]`)."""

    platform: Settings

    def registry(self) -> ModelRegistry:
        return ModelRegistry(self.platform.models_dir)

    def model_settings(self) -> ModelSettings:
        return self.platform.model_settings


ModelRegistryParam = dg.ResourceParam[ModelRegistryResource]
