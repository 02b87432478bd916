"""A randomized A/A test on a real shop's buyers, delivered as an experiment tool's assignment log.

No public randomized experiment with purchase outcomes ships inside a package, but a random split of
real customers is one whose true effect is known: nothing. CDNOW's buyers (see
`public_shop_history`) are split 50/50 by a seeded draw, each exposed at a random moment of the
first week from `start`, and logged under their order email as `experiments/assignments` exports.
Every difference a lift report finds between the arms is then the real purchases' own noise, and
how far the pre-period narrows its intervals is what CUPED does on a real shop's revenue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import polars as pl

from dagster_project.demo_exports.experiment_log import ASSIGNMENT_COLUMNS
from dagster_project.demo_exports.formats import iso_utc
from dagster_project.demo_exports.timeline import SECONDS_PER_DAY
from dagster_project.demo_exports.writers import write_csv

EXPERIMENT_ID = "cdnow-placebo-1998"
EXPERIMENT_NAME = "Placebo split of CDNOW's buyers"
ARMS = ("control", "treatment")
RAMP_DAYS = 7


@dataclass(frozen=True)
class PlaceboExperiment:
    """What `write_placebo_assignments` logged: one row per customer (`customer_id`, `email`, `arm`,
    `assigned_at` as a UTC datetime), the truth the bench compares the lift report with."""

    experiment_id: str
    assignments: pl.DataFrame


def write_placebo_assignments(landing: Path, buyers: pl.DataFrame, purchases: pl.DataFrame, start: date,
                              seed: int = 1998) -> PlaceboExperiment:
    """Split every buyer whose first purchase is before `start` into control and treatment (equal
    chance, independently) and write `<landing>/experiments/assignments_<day>.csv` for each day of
    the week from `start` on which someone was first exposed. `buyers` is the landing's
    (`ShopLanding.buyers`), so each log row names the email the buyer's orders carry."""
    first_purchase = purchases.group_by("customer_id").agg(pl.col("purchased_on").min().alias("first_purchase"))
    audience = buyers.join(first_purchase, on="customer_id", how="inner").filter(
        pl.col("first_purchase") < start).sort("customer_id")
    if audience.is_empty():
        raise ValueError(f"no CDNOW buyer bought before {start}: nobody to split")
    rng = np.random.default_rng(seed)
    n = audience.height
    arm = np.where(rng.random(n) < 0.5, ARMS[1], ARMS[0])
    start_epoch = int(datetime.combine(start, datetime.min.time(), tzinfo=timezone.utc).timestamp())
    seconds = start_epoch + rng.integers(0, RAMP_DAYS, size=n) * SECONDS_PER_DAY + rng.integers(0, SECONDS_PER_DAY, size=n)
    logged = audience.select("customer_id", "email").with_columns(
        pl.Series("arm", arm, dtype=pl.String), pl.Series("seconds", seconds, dtype=pl.Int64)).sort("seconds")
    logged = logged.with_columns(pl.from_epoch("seconds", time_unit="s").dt.replace_time_zone("UTC").alias("assigned_at"),
                                 iso_utc(pl.col("seconds")).alias("timestamp"))
    for (day,), rows in logged.group_by(pl.col("assigned_at").dt.date(), maintain_order=True):
        write_csv(landing / "experiments" / f"assignments_{day.isoformat()}.csv", ASSIGNMENT_COLUMNS, (
            [timestamp, email, EXPERIMENT_ID, arm_name, EXPERIMENT_NAME]
            for timestamp, email, arm_name in rows.select("timestamp", "email", "arm").iter_rows()))
    return PlaceboExperiment(EXPERIMENT_ID, logged.select("customer_id", "email", "arm", pl.col("assigned_at").cast(pl.Datetime("us", "UTC"))))
