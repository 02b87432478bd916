"""Quality gates: Great Expectations suites as asset checks on the assets they guard."""

from __future__ import annotations

import dagster as dg

from dagster_project.defs.quality.checks import build_quality_checks
from dagster_project.defs.quality.resources import QualityGates
from dagster_project.settings import Settings


def quality_definitions(settings: Settings) -> dg.Definitions:
    gates = QualityGates(settings.quality_dir, settings.quality_thresholds, settings.docs_port)
    return dg.Definitions(asset_checks=build_quality_checks(gates.thresholds), resources={"quality": gates})
