"""Measurement at scale: an experiment's lift report and the uplift models, on a million customers.

The lift report runs on a simulated shop's assignments and orders (a year before assignment and the
horizon after, skewed purchase rates, a planted lift for the treated arm): per-customer windows, every
metric with and without CUPED, the sample-ratio check and the A/A split. The uplift part learns an
action from a simulated randomized experiment (ml.measurement.simulated_uplift) as the nightly
next-best-action step does (`uplift_training.learn_uplift`: the T- and X-learners cross-fitted, the
better refitted on everyone) and scores every customer, with each learner's held-out Qini coefficient
against the oracle's. Each phase's wall time and the process's peak memory are printed.

    uv run python bench/measurement.py --customers 1000000
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from ml.measurement.assignment import assign_arms
from ml.measurement.experiment_settings import load_measurement_settings
from ml.measurement.lift_report import customer_outcomes, experiment_lift
from ml.measurement.qini import compare_to_oracle
from ml.measurement.simulated_uplift import CONTROL, FEATURES, simulate_uplift_experiment
from ml.measurement.uplift_training import ActionSource, learn_uplift

START = datetime(2026, 9, 1)
HORIZON_DAYS = 60
_DEFAULTS = load_measurement_settings().next_best_action
# The nightly settings, with the simulated action priced at $1 a customer.
NIGHTLY = _DEFAULTS.model_copy(update={"actions": {"discount_offer": next(iter(_DEFAULTS.actions.values())).model_copy(update={"cost_usd": 1.0})}})


def simulated_shop(n: int, rng: np.random.Generator, rate_lift: float = 0.3) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Assignments over a week's ramp, orders of the 365 days before and the horizon after, and the
    pre-period covariates the feature store would hold."""
    ids = pl.Series("customer_id", [f"cus_{i:08d}" for i in range(n)])
    arm = assign_arms(ids, "bench-lift", {"control": 0.5, "offer": 0.5}).to_numpy()
    assigned = np.datetime64(START) + (rng.uniform(0, 7 * 86_400, n)).astype("timedelta64[s]")
    rate = rng.gamma(0.6, 2.5, n) / 365
    spend = rng.gamma(3.0, 25.0, n)
    before = rng.poisson(rate * 365)
    during = rng.poisson(rate * HORIZON_DAYS * np.where(arm == "offer", 1 + rate_lift, 1.0))
    owner = np.r_[np.repeat(np.arange(n), before), np.repeat(np.arange(n), during)]
    offset_days = np.r_[-rng.uniform(0, 365, before.sum()), rng.uniform(0, HORIZON_DAYS, during.sum())]
    created = assigned[owner] + (offset_days * 86_400).astype("timedelta64[s]")
    revenue = rng.gamma(4.0, spend[owner] / 4.0)
    assignments = pl.DataFrame({"customer_id": ids, "arm": arm, "assigned_at": assigned.astype("datetime64[us]")})
    orders = pl.DataFrame({"customer_id": ids.gather(owner), "created_at": created.astype("datetime64[us]"), "revenue_usd": revenue})
    prior = orders.join(assignments, on="customer_id").filter(pl.col("created_at") < pl.col("assigned_at")).group_by("customer_id").agg(
        pl.len().cast(pl.Float64).alias("orders_365d"), pl.col("revenue_usd").sum().alias("net_revenue_usd_365d"))
    covariates = assignments.select("customer_id").join(prior, on="customer_id", how="left").fill_null(0.0)
    return assignments, orders, covariates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    started = time.perf_counter()
    assignments, orders, covariates = simulated_shop(args.customers, rng)
    built = time.perf_counter() - started
    print(f"simulated shop: {assignments.height:,} customers, {orders.height:,} orders ({built:.1f} s, not counted)")

    started = time.perf_counter()
    as_of = START + timedelta(days=90)
    outcomes = customer_outcomes(assignments, orders, HORIZON_DAYS, as_of)
    report = experiment_lift("bench", outcomes, control="control", horizon_days=HORIZON_DAYS, as_of=as_of,
                             shares={"control": 0.5, "offer": 0.5}, covariates=covariates, primary_metric="revenue_per_customer")
    lift_seconds = time.perf_counter() - started
    revenue = report.lift("revenue_per_customer", "offer")
    print(f"lift report: {lift_seconds:.1f} s; revenue per customer {revenue.lift.relative_lift:+.1%} "
          f"[{revenue.lift.relative_ci_low:+.1%}, {revenue.lift.relative_ci_high:+.1%}] (planted +30% purchase rate), "
          f"CUPED narrows its interval {revenue.ci_narrowing:.0%}; SRM p = {report.sample_ratio.p_value:.2f}")
    del orders, outcomes

    started = time.perf_counter()
    experiment = simulate_uplift_experiment(args.customers, rng, arms=(CONTROL, "discount_offer"))
    training = experiment.features.with_columns(pl.Series("treated", experiment.arm == "discount_offer"),
                                                pl.Series("outcome", experiment.outcome))
    simulated = time.perf_counter() - started
    print(f"uplift experiment: {args.customers:,} customers ({simulated:.1f} s, not counted); the nightly path: both learners "
          f"cross-fitted over {NIGHTLY.folds} folds, judged on held-out folds, the chosen one refitted on everyone")
    started = time.perf_counter()
    learned = learn_uplift(training, list(FEATURES), ActionSource("discount_offer", "bench", "discount_offer", CONTROL, 30, {}), NIGHTLY)
    fitted = time.perf_counter() - started
    started = time.perf_counter()
    served = learned.predict(experiment.features)
    scored = time.perf_counter() - started
    uplift_seconds = fitted + scored
    truth = experiment.true_effect["discount_offer"]
    for name in learned.qini:
        qini = compare_to_oracle(learned.cross_fitted[f"effect_{name}"].to_numpy(), truth, training["treated"].to_numpy(), experiment.outcome)
        print(f"{name}: cross-fitted Qini {qini.model:.3f} vs oracle {qini.oracle:.3f} ({qini.ratio:.3f} of the oracle's)")
    print(f"uplift: cross-fit + choose + refit {fitted:.1f} s, score {args.customers:,} customers {scored:.1f} s; "
          f"{learned.learner} chosen, targeting {'pays' if learned.targets else 'does not pay'} on held-out customers "
          f"(served effects: mean ${served.mean():.2f})")
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"together: lift report {lift_seconds:.1f} s + uplift {uplift_seconds:.1f} s = "
          f"{lift_seconds + uplift_seconds:.1f} s; peak memory {peak_gb:.1f} GB")


if __name__ == "__main__":
    main()
