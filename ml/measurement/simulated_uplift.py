"""Simulated multi-arm experiments whose per-customer effects are known, to check uplift models and next-best action.

Customers have observable features: spend over the last six months, days since their last order,
tenure and a segment (value, regular, premium). Their propensity to buy, the `z` of
`simulated_experiments.Population`, is a fixed function of those features, and each action shifts the
probit of buying by a fixed function of them too, so each customer's true effect of each action is
exactly E[spend | action, features] - E[spend | no action, features]: the best ranking any model
could learn. Outcomes are one month of spend drawn as in `simulated_experiments` (mostly zeros,
skewed), with a per-customer basket size the features do not reveal.

The actions differ in whom they move. A discount brings back lapsed value customers (and some
lapsed regulars) but puts off long-standing premium customers; a content email helps new customers
and annoys premium customers who buy every week; a recommendation email lifts recent big spenders
and annoys very recent value-segment buyers. A sixth to a quarter of customers respond to each action,
about 5% respond negatively, everyone else is unmoved; effects reach about +-$20 a month. The shifts are
large (up to 1.2 on the probit of buying) so that tens of thousands of customers are enough to learn
whom each action moves; real campaigns move revenue less and need more customers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import stats

from ml.measurement.assignment import assign_arms
from ml.measurement.simulated_experiments import Population

ACTIONS = ("discount_offer", "content_email", "recommendation_email")
CONTROL = "control"
FEATURES = ("past_spend_usd", "recency_days", "tenure_months", "is_value_segment", "is_premium_segment")


@dataclass(frozen=True)
class SimulatedUpliftExperiment:
    """Per-customer features, arm and outcome (aligned), and every customer's true effect of every action."""

    features: pl.DataFrame
    """customer_id and FEATURES, one row per customer."""
    arm: np.ndarray
    """CONTROL or an action name, by the customer's salted hash (as `assignment.assign_arms` assigns)."""
    outcome: np.ndarray
    """Spend in the experiment's month."""
    true_effect: dict[str, np.ndarray]
    """Per action: expected spend with the action minus without it, given the customer's features."""


def simulate_uplift_experiment(n: int, rng: np.random.Generator, population: Population = Population(), *,
                               arms: Sequence[str] = (CONTROL, *ACTIONS), salt: str = "simulated-uplift") -> SimulatedUpliftExperiment:
    """`n` customers split evenly over `arms` (CONTROL and any of ACTIONS) by a salted hash of their id."""
    unknown = sorted(set(arms) - {CONTROL, *ACTIONS})
    if unknown:
        raise ValueError(f"unknown arms {unknown}: arms are {CONTROL!r} and any of {ACTIONS}")
    features = _simulate_features(n, rng)
    z = _propensity(features)
    shifts = _probit_shifts(features)
    untreated = population.expected_spend(z)
    true_effect = {action: population.expected_spend(z, shifts[action]) - untreated for action in ACTIONS}
    arm = assign_arms(features["customer_id"], salt, {name: 1 / len(arms) for name in arms}).to_numpy()
    shift = np.zeros(n)
    for action in ACTIONS:
        shift = np.where(arm == action, shifts[action], shift)
    p = population
    buys = rng.random(n) < stats.norm.cdf(p.buy_intercept + shift + p.buy_slope * z)
    basket = rng.normal(0.0, p.basket_sd, n)
    spend = rng.lognormal(p.log_spend_mean + p.spend_slope * z + basket, p.order_sd)
    return SimulatedUpliftExperiment(features, arm, np.where(buys, spend, 0.0), true_effect)


def _simulate_features(n: int, rng: np.random.Generator) -> pl.DataFrame:
    segment = rng.choice(3, n, p=(0.3, 0.5, 0.2))  # value, regular, premium
    # A latent activity makes spend and recency move together, as they do in real order histories.
    activity = rng.standard_normal(n)
    log_spend = 4.3 + 0.6 * activity + 0.4 * (segment == 2) - 0.3 * (segment == 0)
    past_spend = np.where(activity > -0.9, np.round(rng.lognormal(log_spend, 0.5), 2), 0.0)
    recency = np.clip(np.round(rng.exponential(45 * np.exp(-0.7 * activity))), 1, 365)
    return pl.DataFrame({
        "customer_id": [f"c{i:07d}" for i in range(n)],
        "past_spend_usd": past_spend,
        "recency_days": recency,
        "tenure_months": rng.integers(1, 73, n).astype(np.float64),
        "is_value_segment": segment == 0,
        "is_premium_segment": segment == 2,
    })


def _propensity(features: pl.DataFrame) -> np.ndarray:
    """Population's z from the features: about N(0.06, 0.9**2) over the simulated customers."""
    return (0.3 * (np.log1p(features["past_spend_usd"].to_numpy()) - 3.6)
            - 0.4 * (np.log(features["recency_days"].to_numpy()) - 3.3)
            + 0.1 * features["is_premium_segment"].to_numpy())


def _probit_shifts(features: pl.DataFrame) -> dict[str, np.ndarray]:
    past, recency, tenure = (features[name].to_numpy() for name in ("past_spend_usd", "recency_days", "tenure_months"))
    value, premium = features["is_value_segment"].to_numpy(), features["is_premium_segment"].to_numpy()
    regular = ~value & ~premium
    return {
        "discount_offer": np.select([value & (recency > 30), regular & (recency > 90), premium & (tenure > 54)], [1.2, 0.6, -0.75], 0.0),
        "content_email": np.select([tenure <= 12, premium & (recency <= 14)], [0.75, -0.45], 0.0),
        "recommendation_email": np.select([(past > 150) & (recency <= 60), value & (recency <= 7)], [0.75, -0.45], 0.0),
    }
