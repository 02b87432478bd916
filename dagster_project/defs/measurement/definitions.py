"""The measurement stage: lift reports of the experiments."""

from __future__ import annotations

import dagster as dg

from dagster_project.defs.measurement.assets import experiment_lift


def measurement_definitions() -> dg.Definitions:
    return dg.Definitions(assets=[experiment_lift])
