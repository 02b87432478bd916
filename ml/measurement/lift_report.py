"""An experiment's lift report: per arm, what customers did in the horizon after they were assigned,
each treatment arm against control with its interval and p-value, with and without CUPED, the
sample-ratio check, and a built-in A/A comparison.

Inputs are plain tables (one row per assigned customer, one per order), so the nightly asset, the
CLI and the tests share one computation. Each customer is watched from their own assignment time
for `horizon_days` (or until `as_of`, when the horizon has not ended yet), so a ramp that assigns
people over a week compares like with like.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import polars as pl

from ml.measurement.assignment import assign_arms
from ml.measurement.cuped import cuped_comparison
from ml.measurement.lift import Lift, compare_arms, compare_ratio_arms
from ml.measurement.sample_ratio import SampleRatioCheck, check_sample_ratio

# What each metric is, in the words the report and the CLI print.
METRICS: dict[str, str] = {
    "conversion": "share who placed an order in the horizon",
    "repeat_purchase_rate": "share who placed two or more orders in the horizon",
    "retention": "of those with an order in the 365 days before assignment, share who ordered again in the horizon",
    "revenue_per_customer": "net revenue (USD, after cancellations and refunds) per customer in the horizon",
    "average_order_value": "net revenue per order placed in the horizon (all of an arm's orders)",
    "clv_realized": "net revenue per customer from assignment to the last extract date",
    "clv_predicted": "the CLV model's latest predicted value per customer",
}
# The pre-period covariate each metric is adjusted by (CUPED): the same behaviour before assignment.
CUPED_COVARIATES: dict[str, str] = {
    "conversion": "orders_365d", "repeat_purchase_rate": "orders_365d", "retention": "orders_365d",
    "revenue_per_customer": "net_revenue_usd_365d", "clv_realized": "net_revenue_usd_365d",
    "clv_predicted": "net_revenue_usd_365d",
}
AA_SALT_PREFIX = "aa"
AA_ALPHA = 0.05


@dataclass(frozen=True)
class MetricLift:
    """One treatment arm against control on one metric."""

    metric: str
    arm: str
    lift: Lift
    cuped: Lift | None = None
    """The CUPED-adjusted comparison; None for ratio metrics or without covariates."""
    ci_narrowing: float | None = None
    """1 - CUPED width / plain width."""
    covariate: str | None = None


@dataclass(frozen=True)
class ExperimentLift:
    """The whole report of one experiment."""

    experiment_id: str
    control: str
    horizon_days: int
    as_of: datetime
    customers_per_arm: dict[str, int]
    horizon_complete_share: float
    """Share of customers whose whole horizon lies before `as_of`."""
    sample_ratio: SampleRatioCheck
    metrics: list[MetricLift]
    aa: Lift
    """Control split in two by a salted hash, compared on the primary metric: should differ 5% of the time."""
    primary_metric: str
    left_out: dict[str, int] = field(default_factory=dict)
    """Rows or customers left out of the analysis, by reason."""
    notes: list[str] = field(default_factory=list)

    @property
    def aa_flagged(self) -> bool:
        return self.aa.p_value is not None and self.aa.p_value < AA_ALPHA

    def lift(self, metric: str, arm: str) -> MetricLift:
        """The comparison of `arm` with control on `metric`."""
        return next(item for item in self.metrics if item.metric == metric and item.arm == arm)


def customer_outcomes(assignments: pl.DataFrame, orders: pl.DataFrame, horizon_days: int, as_of: datetime) -> pl.DataFrame:
    """Per assigned customer (`customer_id`, `arm`, `assigned_at`): orders and net revenue in their
    horizon, orders in the 365 days before assignment, and revenue from assignment to `as_of`.

    `orders` holds `customer_id`, `created_at` and `revenue_usd` (0 for a cancelled order: it was
    placed, so it counts as an order, but it earned nothing). `as_of` is the end of the last
    extract day; orders after it are not known yet."""
    if horizon_days < 1:
        raise ValueError(f"horizon_days must be positive, got {horizon_days}")
    base = assignments.select("customer_id", "arm", pl.col("assigned_at").cast(pl.Datetime("us")))
    horizon = pl.duration(days=horizon_days)
    joined = base.join(orders.select("customer_id", pl.col("created_at").cast(pl.Datetime("us")), "revenue_usd"),
                       on="customer_id", how="left")
    after = (pl.col("created_at") >= pl.col("assigned_at")) & (pl.col("created_at") < as_of)
    in_horizon = after & (pl.col("created_at") < pl.col("assigned_at") + horizon)
    before = (pl.col("created_at") < pl.col("assigned_at")) & (pl.col("created_at") >= pl.col("assigned_at") - pl.duration(days=365))
    per_customer = joined.group_by("customer_id").agg(
        in_horizon.sum().alias("orders_in_horizon"),
        pl.col("revenue_usd").filter(in_horizon).sum().alias("revenue_in_horizon"),
        before.sum().alias("orders_before_365d"),
        pl.col("revenue_usd").filter(after).sum().alias("clv_realized"),
    )
    observed = (pl.min_horizontal(pl.col("assigned_at") + horizon, pl.lit(as_of)) - pl.col("assigned_at")).dt.total_seconds() / 86_400
    return base.join(per_customer, on="customer_id", how="left").with_columns(
        pl.col("orders_in_horizon", "orders_before_365d").fill_null(0).cast(pl.Int64),
        pl.col("revenue_in_horizon", "clv_realized").fill_null(0.0).cast(pl.Float64),
        observed.clip(lower_bound=0).alias("observed_days"),
    ).sort("customer_id")


def metric_values(outcomes: pl.DataFrame, metric: str) -> pl.DataFrame:
    """`customer_id`, `arm` and the metric's per-customer `value` over the customers it is defined for
    (AOV: `revenue` and `orders`, a ratio over the arm)."""
    frame = outcomes
    if metric == "conversion":
        value = (pl.col("orders_in_horizon") >= 1).cast(pl.Float64)
    elif metric == "repeat_purchase_rate":
        value = (pl.col("orders_in_horizon") >= 2).cast(pl.Float64)
    elif metric == "retention":
        frame = outcomes.filter(pl.col("orders_before_365d") >= 1)
        value = (pl.col("orders_in_horizon") >= 1).cast(pl.Float64)
    elif metric == "revenue_per_customer":
        value = pl.col("revenue_in_horizon")
    elif metric == "clv_realized":
        value = pl.col("clv_realized")
    elif metric == "clv_predicted":
        frame = outcomes.filter(pl.col("clv_predicted").is_not_null()) if "clv_predicted" in outcomes.columns else outcomes.clear()
        value = pl.col("clv_predicted").cast(pl.Float64) if "clv_predicted" in outcomes.columns else pl.lit(0.0)
    elif metric == "average_order_value":
        return frame.select("customer_id", "arm", pl.col("revenue_in_horizon").alias("revenue"), pl.col("orders_in_horizon").alias("orders"))
    else:
        raise ValueError(f"unknown metric {metric!r}; known: {', '.join(METRICS)}")
    return frame.select("customer_id", "arm", value.alias("value"))


def experiment_lift(experiment_id: str, outcomes: pl.DataFrame, *, control: str, horizon_days: int, as_of: datetime,
                    primary_metric: str = "conversion", shares: Mapping[str, float] | None = None,
                    covariates: pl.DataFrame | None = None, left_out: Mapping[str, int] | None = None,
                    confidence: float = 0.95) -> ExperimentLift:
    """Every treatment arm against `control` on every metric of `METRICS`.

    `outcomes` comes from `customer_outcomes` (plus an optional `clv_predicted` column);
    `covariates` (`customer_id` and the columns of `CUPED_COVARIATES`, as known at assignment)
    enables CUPED; `shares` are the intended arm shares (equal when not given) for the
    sample-ratio check."""
    if primary_metric == "clv":
        primary_metric = "clv_realized"
    if primary_metric not in METRICS:
        raise ValueError(f"unknown primary metric {primary_metric!r}; known: {', '.join(METRICS)}")
    counts = dict(outcomes.group_by("arm").len().sort("arm").iter_rows())
    notes: list[str] = []
    if control not in counts:
        raise ValueError(f"experiment {experiment_id}: no customer in the control arm {control!r} (arms: {', '.join(map(str, counts)) or 'none'})")
    if shares is None:
        shares = {arm: 1.0 / len(counts) for arm in counts}
        notes.append("arm shares not configured: the sample-ratio check assumes an equal split")
    unexpected = sorted(set(counts) - set(shares))
    if unexpected:
        notes.append(f"arms not in the configured split, checked as 0%: {', '.join(unexpected)}")
        shares = {**shares, **{arm: 0.0 for arm in unexpected}}
    sample_ratio = check_sample_ratio(counts, shares)
    if covariates is not None:
        outcomes = outcomes.join(covariates, on="customer_id", how="left")
    complete = float(np.mean(outcomes["observed_days"].to_numpy() >= horizon_days)) if outcomes.height else 0.0
    if complete < 1.0:
        notes.append(f"horizon not over for {1 - complete:.0%} of customers: their figures cover the days observed so far")
    metrics = [_metric_lift(outcomes, metric, arm, control, confidence)
               for arm in counts if arm != control for metric in METRICS]
    return ExperimentLift(experiment_id, control, horizon_days, as_of, counts, complete, sample_ratio, metrics,
                          _aa_lift(experiment_id, outcomes, control, primary_metric, confidence), primary_metric,
                          dict(left_out or {}), notes)


def _metric_lift(outcomes: pl.DataFrame, metric: str, arm: str, control: str, confidence: float) -> MetricLift:
    values = metric_values(outcomes, metric)
    if metric == "average_order_value":
        c, t = values.filter(pl.col("arm") == control), values.filter(pl.col("arm") == arm)
        return MetricLift(metric, arm, compare_ratio_arms(c["revenue"], c["orders"], t["revenue"], t["orders"], confidence=confidence))
    pair = values.filter(pl.col("arm").is_in([control, arm]))
    plain = compare_arms(pair.filter(pl.col("arm") == control)["value"], pair.filter(pl.col("arm") == arm)["value"], confidence=confidence)
    covariate = CUPED_COVARIATES.get(metric)
    if covariate is None or covariate not in outcomes.columns or pair.height == 0:
        return MetricLift(metric, arm, plain)
    x = pair.select("customer_id").join(outcomes.select("customer_id", covariate), on="customer_id", how="left")[covariate]
    adjusted = cuped_comparison(pair["value"], x.cast(pl.Float64).fill_null(np.nan), pair["arm"], control=control, treatment=arm,
                                confidence=confidence)
    return MetricLift(metric, arm, plain, adjusted.adjusted, adjusted.ci_narrowing, covariate)


def _aa_lift(experiment_id: str, outcomes: pl.DataFrame, control: str, metric: str, confidence: float) -> Lift:
    """The control arm split in two halves by a salted hash of the customer id, compared on `metric`:
    a working pipeline finds a difference there 5% of the time at 95% confidence."""
    controls = outcomes.filter(pl.col("arm") == control)
    halves = assign_arms(controls["customer_id"], f"{AA_SALT_PREFIX}/{experiment_id}", {"a": 0.5, "b": 0.5})
    split = controls.with_columns(halves.alias("arm"))
    values = metric_values(split, metric)
    if metric == "average_order_value":
        a, b = values.filter(pl.col("arm") == "a"), values.filter(pl.col("arm") == "b")
        return compare_ratio_arms(a["revenue"], a["orders"], b["revenue"], b["orders"], confidence=confidence)
    return compare_arms(values.filter(pl.col("arm") == "a")["value"], values.filter(pl.col("arm") == "b")["value"], confidence=confidence)


def lift_rows(report: ExperimentLift) -> pl.DataFrame:
    """The report as a table: one row per treatment arm and metric, plain and CUPED side by side."""
    rows = []
    for item in report.metrics:
        lift, cuped = item.lift, item.cuped
        rows.append({
            "metric": item.metric, "arm": item.arm,
            "control_n": lift.control_n, "arm_n": lift.treatment_n,
            "control": lift.control_mean, "treatment": lift.treatment_mean,
            "difference": lift.difference, "ci_low": lift.ci_low, "ci_high": lift.ci_high, "p_value": lift.p_value,
            "relative_lift": lift.relative_lift,
            "cuped_difference": cuped.difference if cuped else None,
            "cuped_ci_low": cuped.ci_low if cuped else None, "cuped_ci_high": cuped.ci_high if cuped else None,
            "cuped_p_value": cuped.p_value if cuped else None,
            "ci_narrowing": item.ci_narrowing, "note": lift.note,
        })
    return pl.DataFrame(rows, schema_overrides={"note": pl.String})


def interval_covers(lift: Lift, value: float) -> bool:
    """Whether the interval of the difference holds `value` (False without an interval)."""
    return lift.ci_low is not None and lift.ci_high is not None and lift.ci_low <= value <= lift.ci_high

