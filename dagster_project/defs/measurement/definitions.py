"""The measurement stage: cxp's own assignments and the lift reports of the experiments."""

from __future__ import annotations

import dagster as dg

from dagster_project.defs.measurement.assets import assignments, experiment_lift


def measurement_definitions() -> dg.Definitions:
    return dg.Definitions(assets=[assignments, experiment_lift])
