"""Generated data only: a night's uplift models and next-best actions against the effects `cxp generate` planted.

The truth (`_truth/experiment_assignments.parquet`) gives each person of the experiment the expected
number of orders the offer adds (`expected_incremental_orders`: negative for a frequent buyer it puts
off) and both potential outcomes (`revenue_if_treated_usd`, `revenue_if_control_usd`); `people.parquet`
their mean order value. A customer's true effect is then

- expected: incremental orders x mean order value (scaled so that, over the experiment's people, orders
  are worth what their potential outcomes' net revenue says: the latent mean is of an order's target
  value, before prices, quantities, discounts and refunds);
- realized: revenue if treated minus revenue if not, what giving them the action did in this world;
- for the person's profile: the expected effect before the responder coin (who responds is chance),
  the most any model of their true purchase rate and lifetime could know.

Qini compares the model's cross-fitted ranking (each customer scored by a model that never saw them)
with the oracle's (ranking by the expected true effect) and the profile oracle's, all on the observed
outcomes. The policies
are judged on the same customers by their true incremental value net of cost: next-best action
as the night applies it (the action where the model's effect exceeds its cost, or, when the model's
targeting did not pay on held-out customers, the blanket policy the average effect picks), the best
single action for everyone (the action for all, or no action for all, whichever is worth more), the
model's targeting as such, and the oracle's choice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from ml.measurement.qini import QiniComparison, compare_to_oracle, qini_coefficient


@dataclass(frozen=True)
class PolicyValue:
    """Total true incremental value (USD, net of cost) of a policy on the judged customers."""

    expected: float
    realized: float
    targeted: int


@dataclass(frozen=True)
class ActionTruth:
    """One action's model and policies against the truth."""

    action: str
    customers: int
    """Experiment customers matched to a person of the truth."""
    qini: dict[str, QiniComparison]
    """Per learner: its cross-fitted Qini coefficient against the oracle's."""
    profile_oracle_qini: float | None
    """The Qini coefficient of the ranking by the profile's expected effect (None without it in the truth)."""
    next_best_action: PolicyValue
    model_targeting: PolicyValue
    everyone: PolicyValue
    nobody: PolicyValue
    oracle: PolicyValue

    @property
    def best_single(self) -> tuple[str, PolicyValue]:
        """The better of the action for everyone and no action for anyone, by expected true value."""
        return ("everyone", self.everyone) if self.everyone.expected > self.nobody.expected else ("nobody", self.nobody)


def true_effects(truth_assignments: pl.DataFrame, people: pl.DataFrame, persons: pl.DataFrame, experiment_id: str) -> pl.DataFrame:
    """`customer_id`, `true_effect_usd` (expected), `realized_effect_usd` and `profile_effect_usd` (null
    when the truth predates it) of each customer the truth has in the experiment (customers mapped to
    their person by `persons`: `customer_id`, `person_id`)."""
    truth = truth_assignments.filter(pl.col("experiment_id") == experiment_id).join(
        people.select("person_id", "spend_mean_usd"), on="person_id", how="left")
    if "profile_expected_incremental_orders" not in truth.columns:
        truth = truth.with_columns(pl.lit(None, pl.Float64).alias("profile_expected_incremental_orders"))
    orders = pl.col("orders_if_control") + pl.col("orders_if_treated")
    worth = truth.select((pl.col("revenue_if_control_usd") + pl.col("revenue_if_treated_usd")).sum()
                         / (orders * pl.col("spend_mean_usd")).sum()).item()
    order_value = pl.col("spend_mean_usd") * (worth or 1.0)
    return persons.join(truth, on="person_id", how="inner").select(
        "customer_id",
        (pl.col("expected_incremental_orders") * order_value).alias("true_effect_usd"),
        (pl.col("revenue_if_treated_usd") - pl.col("revenue_if_control_usd")).alias("realized_effect_usd"),
        (pl.col("profile_expected_incremental_orders") * order_value).alias("profile_effect_usd"),
    ).unique("customer_id", keep="first")


def compare_action_with_truth(action: str, cross_fitted: pl.DataFrame, effects: pl.DataFrame, cost_usd: float, learner: str,
                              targets: bool, average_effect_usd: float) -> ActionTruth:
    """The action's learners (cross-fitted `effect_<learner>` columns) and policies against `effects`;
    `targets` and `average_effect_usd` say what the night did with the chosen learner (see `uplift_training`)."""
    judged = cross_fitted.join(effects, on="customer_id", how="inner").drop_nulls(["true_effect_usd", "realized_effect_usd"])
    treated, outcome = judged["treated"].to_numpy(), judged["outcome"].to_numpy()
    true, realized = judged["true_effect_usd"].to_numpy(), judged["realized_effect_usd"].to_numpy()
    learners = [column.removeprefix("effect_") for column in judged.columns if column.startswith("effect_")]
    qini = {name: compare_to_oracle(judged[f"effect_{name}"].to_numpy(), true, treated, outcome) for name in learners}
    profile = judged["profile_effect_usd"]
    profile_qini = qini_coefficient(profile.to_numpy(), treated, outcome) if profile.is_not_null().all() else None

    def value(targeted: np.ndarray) -> PolicyValue:
        return PolicyValue(float((true - cost_usd)[targeted].sum()), float((realized - cost_usd)[targeted].sum()), int(targeted.sum()))

    model_targeting = judged[f"effect_{learner}"].to_numpy() > cost_usd
    applied = model_targeting if targets else np.full(judged.height, average_effect_usd > cost_usd)
    return ActionTruth(action, judged.height, qini, profile_qini, next_best_action=value(applied), model_targeting=value(model_targeting),
                       everyone=value(np.ones(judged.height, dtype=bool)), nobody=value(np.zeros(judged.height, dtype=bool)),
                       oracle=value(true > cost_usd))
