"""The model registry as a Dagster resource."""

from __future__ import annotations

import dagster as dg

from dagster_project.settings import load_settings
from ml.model_registry import ModelRegistry


class ModelRegistryResource(dg.ConfigurableResource):
    """The file-based model registry and the model settings of cxp's configuration."""

    def registry(self) -> ModelRegistry:
        return ModelRegistry(load_settings().models_dir)

    def model_settings(self):
        return load_settings().model_settings()
