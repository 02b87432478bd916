"""The measurement stage: cxp's own assignments, the lift reports of the experiments and the next-best actions."""

from __future__ import annotations

import dagster as dg

from dagster_project.defs.measurement.assets import assignments, experiment_lift, next_best_actions


def measurement_definitions() -> dg.Definitions:
    return dg.Definitions(assets=[assignments, experiment_lift, next_best_actions])
