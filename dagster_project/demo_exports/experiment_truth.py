"""Ground truth of the experiment: each person's arm and potential outcomes, and the true effects."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from dagster_project.demo_exports.experiments import ARMS, RESPONDER_SHARE, rate_multipliers
from dagster_project.demo_exports.world import World

# The two potential worlds, named as in the outcome columns.
ARM_WORLDS = ("control", "treated")


def experiment_assignments(world: World) -> pl.DataFrame:
    """One row per assigned person: arm, first exposure, the latent effect, and both potential outcomes."""
    experiment, log = world.experiment, world.assignment_log
    erased = world.erased_at[experiment.person] >= 0
    lam = world.people["lambda_per_year"].to_numpy()[experiment.person]
    frame = pl.DataFrame({
        "experiment_id": pl.Series([experiment.experiment_id] * len(experiment.person), dtype=pl.String),
        "person_id": world.people["person_id"].to_numpy()[experiment.person].astype(str),
        "person_index": experiment.person.astype(np.int64),
        "arm": np.array(ARMS, dtype=object)[experiment.arm].astype(str),
        "assigned_at": experiment.assigned_at,
        "user_id": log.user_id.astype(str),
        "is_responder": experiment.is_responder,
        "rate_multiplier": experiment.rate_multiplier,
        "alive_effect_days": experiment.alive_effect_days.astype(np.int64),
        "expected_incremental_orders": experiment.expected_incremental_orders,
        # The same before the responder coin is tossed: the best any model of the person's true rate and
        # lifetime could know, since who responds is chance.
        "profile_expected_incremental_orders": RESPONDER_SHARE * rate_multipliers(lam) * lam / 365.0 * experiment.alive_effect_days,
        "in_two_arms": log.in_two_arms,
        "erased": erased,
        "is_analyzable": ~log.in_two_arms & ~erased,
    })
    return pl.concat([frame, world.experiment_outcomes], how="horizontal").filter(pl.Series(log.assigned)).with_columns(
        pl.from_epoch("assigned_at", time_unit="s").dt.replace_time_zone("UTC"))


def _metric_values(frame: pl.DataFrame, world_name: str) -> dict[str, float | None]:
    """Each metric over the people of `frame` in one world (None over nobody)."""
    orders = frame[f"orders_if_{world_name}"].to_numpy()
    revenue = frame[f"revenue_if_{world_name}_usd"].to_numpy()
    retained = orders[frame["orders_365d_before"].to_numpy() > 0]

    def mean(values: np.ndarray) -> float | None:
        return float(values.mean()) if len(values) else None

    return {
        "conversion": mean(orders > 0),
        "repeat_purchase_rate": mean(orders >= 2),
        "retention": mean(retained > 0),
        "revenue_per_customer": mean(revenue),
        "average_order_value": float(revenue.sum() / orders.sum()) if orders.sum() else None,
        "clv_realized": mean(frame[f"clv_realized_if_{world_name}_usd"].to_numpy()),
    }


def experiment_effects(assignments: pl.DataFrame, world: World) -> pl.DataFrame:
    """Per metric, the true sample average effect (treated world minus control world) over the
    analyzable people, with the control world's level and the experiment's counts."""
    log = world.assignment_log
    analyzable = assignments.filter(pl.col("is_analyzable"))
    control, treated = (_metric_values(analyzable, name) for name in ARM_WORLDS)
    exposure = log.rows["exposure"]
    counts = {
        "audience": assignments.height,
        "analyzable": analyzable.height,
        "analyzable_control": int((analyzable["arm"] == ARMS[0]).sum()),
        "analyzable_treated": int((analyzable["arm"] != ARMS[0]).sum()),
        "in_two_arms": int(assignments["in_two_arms"].sum()),
        "unknown_id_rows": int((exposure == "unknown_id").sum()),
        "duplicate_exposure_rows": int((exposure == "repeat").sum()),
    }
    return pl.DataFrame({
        "experiment_id": [world.experiment.experiment_id] * len(control),
        "metric": list(control),
        "control_value": list(control.values()),
        "treated_value": list(treated.values()),
        "effect": [None if c is None or t is None else t - c for c, t in zip(control.values(), treated.values())],
        **{name: [value] * len(control) for name, value in counts.items()},
    }, schema_overrides={"control_value": pl.Float64, "treated_value": pl.Float64, "effect": pl.Float64})


def write_experiment_truth(world: World, folder: Path) -> int:
    """Write experiment_assignments.parquet and experiment_effects.parquet; return the number of files."""
    assignments = experiment_assignments(world)
    assignments.write_parquet(folder / "experiment_assignments.parquet")
    experiment_effects(assignments, world).write_parquet(folder / "experiment_effects.parquet")
    return 2
