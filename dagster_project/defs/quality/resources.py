"""The quality gates' resource: where Great Expectations keeps its project, and the thresholds."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from data_quality.thresholds import QualityThresholds, load_quality_thresholds


class QualityGates(dg.ConfigurableResource):
    """The Great Expectations project (suites, results per run, Data Docs) and this environment's thresholds."""

    project_dir: str
    thresholds_file: str | None = None
    """A YAML file overriding `data_quality/thresholds.yml` (CXP_QUALITY_THRESHOLDS); unset, the defaults."""

    @property
    def project_path(self) -> Path:
        return Path(self.project_dir)

    def thresholds(self) -> QualityThresholds:
        return load_quality_thresholds(Path(self.thresholds_file) if self.thresholds_file else None)
