"""The quality gates' resource: where Great Expectations keeps its project, and the thresholds."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from data_quality.thresholds import QualityThresholds, load_quality_thresholds


@dataclass(frozen=True)
class QualityGates:
    """The Great Expectations project (suites, results per run, Data Docs) and this environment's
    thresholds, read once with the run's settings (checks take it as `dg.ResourceParam[QualityGates]`)."""

    project_path: Path
    thresholds: QualityThresholds = field(default_factory=load_quality_thresholds)


QualityGatesParam = dg.ResourceParam[QualityGates]
