"""The lift report on order histories with a planted effect: the per-customer windows, every metric's
comparison, CUPED, the ratio metric, the sample-ratio check and the built-in A/A comparison."""

from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest

from ml.measurement.lift import compare_ratio_arms
from ml.measurement.lift_report import METRICS, customer_outcomes, experiment_lift, interval_covers, lift_rows

START = datetime(2026, 3, 1)
HORIZON = 60


def shop(n_per_arm: int, seed: int, rate_lift: float = 0.5, arms=("control", "discount")) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Assignments over a week's ramp, a year of orders before and the horizon after; treated
    customers buy at (1 + rate_lift) times their own rate in the horizon."""
    rng = np.random.default_rng(seed)
    n = n_per_arm * len(arms)
    ids = [f"c{i:06d}" for i in range(n)]
    arm = np.repeat(np.array(arms), n_per_arm)
    rng.shuffle(arm)
    rate = rng.gamma(0.8, 3.0, size=n) / 365  # orders per day, skewed like real shops
    spend = rng.gamma(3.0, 20.0, size=n)  # a customer's typical basket
    assigned = [START + timedelta(hours=float(h)) for h in rng.uniform(0, 24 * 7, size=n)]
    treated = arm != "control"
    customer, created, revenue = [], [], []
    for i in range(n):
        before = rng.poisson(rate[i] * 365)
        during = rng.poisson(rate[i] * HORIZON * (1 + rate_lift * treated[i]))
        for offset in [*(-rng.uniform(0, 365, size=before)), *rng.uniform(0, HORIZON, size=during)]:
            customer.append(ids[i])
            created.append(assigned[i] + timedelta(days=float(offset)))
            revenue.append(float(rng.gamma(4.0, spend[i] / 4.0)))
    assignments = pl.DataFrame({"customer_id": ids, "arm": arm.tolist(), "assigned_at": assigned})
    orders = pl.DataFrame({"customer_id": customer, "created_at": created, "revenue_usd": revenue})
    covariates = customer_outcomes(assignments, orders, HORIZON, START + timedelta(days=120)).select(
        "customer_id", pl.col("orders_before_365d").cast(pl.Float64).alias("orders_365d"))
    spend_before = orders.join(assignments, on="customer_id").filter(
        pl.col("created_at") < pl.col("assigned_at")).group_by("customer_id").agg(pl.col("revenue_usd").sum().alias("net_revenue_usd_365d"))
    return assignments, orders, covariates.join(spend_before, on="customer_id", how="left")


def test_each_customer_is_watched_from_their_own_assignment_for_the_horizon_and_no_later_than_the_data():
    assigned = datetime(2026, 3, 1, 12)
    assignments = pl.DataFrame({"customer_id": ["a", "b"], "arm": ["control", "treatment"], "assigned_at": [assigned, assigned]})
    orders = pl.DataFrame({
        "customer_id": ["a", "a", "a", "a", "b"],
        "created_at": [assigned - timedelta(days=400), assigned - timedelta(days=10), assigned + timedelta(days=59),
                       assigned + timedelta(days=61), assigned - timedelta(hours=1)],
        "revenue_usd": [10.0, 20.0, 30.0, 40.0, 50.0],
    })
    as_of = assigned + timedelta(days=90)
    outcomes = customer_outcomes(assignments, orders, HORIZON, as_of)
    a, b = outcomes.row(0, named=True), outcomes.row(1, named=True)
    # Day 59 is in the horizon, day 61 is not, but both are realized value; 400 days before is not "before 365d".
    assert (a["orders_in_horizon"], a["revenue_in_horizon"], a["orders_before_365d"], a["clv_realized"]) == (1, 30.0, 1, 70.0)
    assert (b["orders_in_horizon"], b["revenue_in_horizon"], b["orders_before_365d"]) == (0, 0.0, 1)
    assert a["observed_days"] == HORIZON
    # Ten days of data after assignment: the window is cut there, and the order after it is unknown.
    early = customer_outcomes(assignments, orders, HORIZON, assigned + timedelta(days=10))
    assert early["observed_days"].to_list() == [10.0, 10.0] and early["orders_in_horizon"].to_list() == [0, 0]


def test_the_report_recovers_a_planted_lift_on_every_metric_and_cuped_narrows_the_revenue_interval():
    assignments, orders, covariates = shop(3000, seed=7)
    as_of = START + timedelta(days=120)
    outcomes = customer_outcomes(assignments, orders, HORIZON, as_of)
    report = experiment_lift("promo", outcomes, control="control", horizon_days=HORIZON, as_of=as_of,
                             primary_metric="revenue_per_customer", shares={"control": 0.5, "discount": 0.5}, covariates=covariates)
    assert report.customers_per_arm == {"control": 3000, "discount": 3000} and not report.sample_ratio.mismatch
    assert report.horizon_complete_share == 1.0 and report.notes == []
    significant = {item.metric for item in report.metrics if item.lift.p_value is not None and item.lift.p_value < 0.01}
    # A 50% higher purchase rate moves every count and revenue metric; the basket size does not change.
    assert significant >= {"conversion", "repeat_purchase_rate", "retention", "revenue_per_customer", "clv_realized"}
    assert interval_covers(report.lift("average_order_value", "discount").lift, 0.0)
    revenue = report.lift("revenue_per_customer", "discount")
    # A year's spend explains part of two months' (r ~ 0.35 here): the interval narrows, by about 12%.
    assert revenue.covariate == "net_revenue_usd_365d" and revenue.ci_narrowing is not None and revenue.ci_narrowing > 0.08
    assert interval_covers(revenue.cuped, revenue.lift.difference)
    # Without a CLV model's scores the predicted value is not estimable rather than invented.
    assert report.lift("clv_predicted", "discount").lift.control_n == 0
    table = lift_rows(report)
    assert table.height == len(METRICS) and set(table["metric"]) == set(METRICS)


def test_intervals_cover_a_known_relative_revenue_lift_about_95_percent_of_the_time():
    # Expected revenue per customer rises by exactly rate_lift; 60 experiments are enough to catch
    # an interval that is badly too narrow or centred off the truth (P(<= 51 of 60) ~ 1% if calibrated).
    covered = 0
    for seed in range(60):
        assignments, orders, _ = shop(400, seed=100 + seed, rate_lift=0.3)
        outcomes = customer_outcomes(assignments, orders, HORIZON, START + timedelta(days=120))
        lift = experiment_lift("p", outcomes, control="control", horizon_days=HORIZON, as_of=START + timedelta(days=120)).lift(
            "revenue_per_customer", "discount").lift
        covered += lift.relative_ci_low <= 0.3 <= lift.relative_ci_high
    assert covered >= 52


def test_a_lopsided_split_is_flagged_and_the_aa_halves_of_control_do_not_differ():
    assignments, orders, covariates = shop(2000, seed=3)
    # Logging that lost a third of the discount arm.
    lossy = assignments.filter((pl.col("arm") == "control") | (pl.int_range(pl.len()) % 3 != 0))
    outcomes = customer_outcomes(lossy, orders, HORIZON, START + timedelta(days=120))
    report = experiment_lift("x", outcomes, control="control", horizon_days=HORIZON, as_of=START + timedelta(days=120))
    assert report.sample_ratio.mismatch and "sample ratio mismatch" in report.sample_ratio.message
    assert "equal split" in report.notes[0]
    assert report.aa.control_n + report.aa.treatment_n == 2000 and report.aa.p_value is not None


def test_aa_comparisons_flag_about_five_percent_of_experiments_without_an_effect():
    flagged = 0
    for seed in range(100):
        assignments, orders, _ = shop(300, seed=1000 + seed, rate_lift=0.0)
        outcomes = customer_outcomes(assignments, orders, HORIZON, START + timedelta(days=120))
        flagged += experiment_lift(f"aa-{seed}", outcomes, control="control", horizon_days=HORIZON,
                                   as_of=START + timedelta(days=120)).aa_flagged
    # 5% of 100: P(outside 0..12) is under 0.2% when the test is calibrated.
    assert flagged <= 12


def test_the_ratio_metric_counts_customers_not_orders_as_the_sample():
    rng = np.random.default_rng(5)
    # One customer with a hundred orders must not make the interval a hundred times too sure.
    orders_c = np.r_[rng.poisson(1.0, 500), 100]
    revenue_c = orders_c * 50.0 + rng.normal(0, 5, orders_c.size) * orders_c
    lift = compare_ratio_arms(revenue_c, orders_c, revenue_c * 1.1, orders_c)
    assert lift.difference == pytest.approx(0.1 * lift.control_mean)
    assert lift.ci_low < lift.difference < lift.ci_high
    empty = compare_ratio_arms([0.0, 0.0], [0, 0], [1.0], [1])
    assert empty.ci_low is None and "no denominator" in empty.note


def test_an_experiment_without_its_control_arm_is_refused_by_name():
    assignments, orders, _ = shop(50, seed=1, arms=("a", "b"))
    outcomes = customer_outcomes(assignments, orders, HORIZON, START + timedelta(days=120))
    with pytest.raises(ValueError, match="no customer in the control arm 'control'"):
        experiment_lift("x", outcomes, control="control", horizon_days=HORIZON, as_of=START + timedelta(days=120))
