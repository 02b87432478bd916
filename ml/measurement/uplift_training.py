"""Each configured action's uplift, learned from the randomized experiment arm that gave it.

An action (settings `next_best_action.actions`) is learned from the newest experiment in the
assignment logs with an arm of its name (or `learned_from_arm`) and a control arm, using only the
customers whose horizon has ended. The outcome is a customer's net revenue in the horizon after
their assignment; the features are the models' inputs as the feature store knew them at that
moment (point in time), so the model learns from what was known when the action was given.

The T- and X-learners are judged by cross-fitting: the experiment's customers are split into folds
by a hash of their id, and each fold's effects are predicted by models fitted on the other folds,
so every customer's Qini contribution comes from a model that never saw them. The learner with the
higher cross-fitted Qini coefficient (or the configured one) is then refitted on every customer
for the night's choices.

A model is trusted to target only when its targeting pays on held-out customers: giving the action
to those whose cross-fitted effect exceeds its cost must be estimated (difference in means among
them: the experiment was randomized) to add more than the better of giving it to everyone and giving
it to nobody, and with the configured confidence (a bootstrap over the experiment's customers: in a
small experiment a blind model's targeting can look better by chance). Otherwise every customer's uplift is the experiment's average effect, and next-best action
gives the action to everyone eligible or to no one: a model that ranks no better than chance must
not take revenue away from the blanket policy it is meant to improve on.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb
import numpy as np
import polars as pl

from ml.feature_matrix import fit_feature_matrix
from ml.measurement.experiment_reports import ASSIGNMENTS_TABLE, read_orders
from ml.measurement.experiment_settings import MeasurementSettings, NextBestActionSettings
from ml.measurement.lift_report import customer_outcomes
from ml.measurement.qini import qini_coefficient
from ml.measurement.uplift_models import TLearner, UpliftModel, UpliftSettings, XLearner

LEARNERS: dict[str, type[UpliftModel]] = {"t_learner": TLearner, "x_learner": XLearner}
OUTCOME = "revenue_in_horizon"
"""What the uplift is of: net revenue (USD) in the horizon after assignment."""


@dataclass(frozen=True)
class ActionSource:
    """The experiment arm an action is learned from."""

    action: str
    experiment_id: str
    arm: str
    control: str
    horizon_days: int
    customers: dict[str, int]
    """Customers with an ended horizon, in the arm and in control."""

    def describe(self) -> str:
        return f"{self.experiment_id} ({self.arm} vs {self.control})"


@dataclass(frozen=True)
class LearnedUplift:
    """An action's fitted uplift model, how well each learner ranked held-out customers, and the
    cross-fitted effects of the experiment's customers (`customer_id`, `treated`, `outcome`, `fold`,
    one `effect_<learner>` column per learner)."""

    source: ActionSource
    learner: str
    model: UpliftModel
    feature_columns: list[str]
    qini: dict[str, float]
    """Cross-fitted Qini coefficient (USD) per learner."""
    cross_fitted: pl.DataFrame
    policy: PolicyEstimates
    """What targeting by the chosen learner, and the blanket policies, are estimated to add on held-out customers."""

    @property
    def targets(self) -> bool:
        """Whether the model's targeting beat both blanket policies on held-out customers, with the configured
        confidence (else the average effect is used)."""
        return self.policy.targeting_pays

    @property
    def version(self) -> str:
        if self.targets:
            return f"{self.learner} on {self.source.describe()}"
        return f"average effect of {self.source.describe()} ({self.learner} targeting did not beat a blanket policy on held-out customers)"

    def predict(self, features: pl.DataFrame) -> np.ndarray:
        """Each customer's expected incremental revenue (USD) from the action."""
        if not self.targets:
            return np.full(features.height, self.policy.average_effect_usd)
        return self.model.predict(numeric_inputs(features, self.feature_columns))[self.source.arm].to_numpy()


@dataclass(frozen=True)
class PolicyEstimates:
    """Estimated incremental revenue net of cost (USD) over the experiment's customers, from held-out
    (cross-fitted) predictions and the randomized outcomes."""

    average_effect_usd: float
    """Treated minus control mean outcome over every customer of the experiment."""
    cost_usd: float
    targeted: int
    """Customers whose cross-fitted effect exceeds the cost."""
    targeted_value_usd: float
    everyone_value_usd: float
    confidence: float
    gain_lower_bound_usd: float
    """Targeting's value minus the better blanket policy's (everyone, or no one: 0), at its lower
    `confidence` bound over bootstrap resamples of the customers."""

    @property
    def targeting_pays(self) -> bool:
        return self.targeted_value_usd > max(self.everyone_value_usd, 0.0) and self.gain_lower_bound_usd > 0


BOOTSTRAP_RESAMPLES = 200


def _policy_value(customers: np.ndarray, treated: np.ndarray, outcome: np.ndarray, cost_usd: float,
                  weights: np.ndarray | None = None) -> float:
    """Customers × (treated mean − control mean − cost) among `customers`, each weighted (bootstrap) or not."""
    w = np.ones(customers.size) if weights is None else weights
    treated_in, control_in = w * (customers & treated), w * (customers & ~treated)
    if treated_in.sum() == 0 or control_in.sum() == 0:
        return 0.0
    return float((w * customers).sum() * (treated_in @ outcome / treated_in.sum() - control_in @ outcome / control_in.sum() - cost_usd))


def estimate_policies(effect: np.ndarray, treated: np.ndarray, outcome: np.ndarray, cost_usd: float,
                      confidence: float = 0.95, seed: int = 0) -> PolicyEstimates:
    """Targeting by `effect` (where it exceeds the cost) against giving the action to everyone, with the
    lower `confidence` bound of targeting's gain over the better blanket policy (Poisson bootstrap)."""
    everyone = np.ones(effect.size, dtype=bool)
    average = float(outcome[treated].mean() - outcome[~treated].mean())
    targeted = effect > cost_usd
    targeted_value, everyone_value = (_policy_value(group, treated, outcome, cost_usd) for group in (targeted, everyone))
    blanket = everyone if everyone_value > 0 else np.zeros(effect.size, dtype=bool)
    rng = np.random.default_rng(seed)
    gains = []
    for _ in range(BOOTSTRAP_RESAMPLES):
        weights = rng.poisson(1.0, size=effect.size).astype(float)
        gains.append(_policy_value(targeted, treated, outcome, cost_usd, weights)
                     - _policy_value(blanket, treated, outcome, cost_usd, weights))
    return PolicyEstimates(average, cost_usd, int(targeted.sum()), targeted_value, everyone_value, confidence,
                           float(np.quantile(gains, 1 - confidence)))


def find_action_sources(connection: duckdb.DuckDBPyConnection, settings: MeasurementSettings, as_of: datetime
                        ) -> tuple[dict[str, ActionSource], dict[str, str]]:
    """For each configured action, the newest experiment with its arm and enough customers whose horizon
    ended by `as_of`; and, for each action without one, why not."""
    nba = settings.next_best_action
    try:
        arms = connection.sql(f"""
            SELECT experiment_id, variation_id AS arm, assigned_at FROM {ASSIGNMENTS_TABLE} WHERE is_analyzable
        """).pl()
    except duckdb.CatalogException:
        arms = pl.DataFrame(schema={"experiment_id": pl.String, "arm": pl.String, "assigned_at": pl.Datetime("us")})
    sources: dict[str, ActionSource] = {}
    missing: dict[str, str] = {}
    for action, configured in nba.actions.items():
        arm = configured.learned_from_arm or action
        candidates = []
        for (experiment_id,), rows in arms.filter(pl.col("experiment_id").is_in(
                arms.filter(pl.col("arm") == arm)["experiment_id"].unique().implode())).group_by("experiment_id"):
            control, horizon = _control_and_horizon(settings, str(experiment_id), set(rows["arm"]))
            if control is None or control == arm:
                continue
            ended = rows.filter(pl.col("assigned_at") + timedelta(days=horizon) <= as_of)
            counts = {name: int((ended["arm"] == name).sum()) for name in (arm, control)}
            candidates.append((rows["assigned_at"].min(), ActionSource(action, str(experiment_id), arm, control, horizon, counts)))
        usable = [(started, source) for started, source in candidates if min(source.customers.values()) >= nba.min_customers_per_arm]
        if usable:
            sources[action] = max(usable, key=lambda pair: pair[0])[1]
        elif candidates:
            best = max(candidates, key=lambda pair: min(pair[1].customers.values()))[1]
            missing[action] = (f"{best.describe()} has {best.customers[arm]:,} and {best.customers[best.control]:,} customers whose "
                               f"{best.horizon_days}-day horizon has ended; at least {nba.min_customers_per_arm:,} per arm are needed")
        else:
            missing[action] = f"no experiment in the assignment logs has an arm {arm!r} next to a control arm"
    return sources, missing


def _control_and_horizon(settings: MeasurementSettings, experiment_id: str, arms: set[str]) -> tuple[str | None, int]:
    configured = settings.experiments.get(experiment_id)
    if configured:
        return (configured.control if configured.control in arms else None), configured.horizon_days
    defaults = settings.logged_experiments
    return next((arm for arm in defaults.control_arms if arm in arms), None), defaults.horizon_days


def read_training_customers(connection: duckdb.DuckDBPyConnection, source: ActionSource, as_of: datetime) -> pl.DataFrame:
    """The arm's and control's analyzable customers whose horizon has ended, with `treated` and their
    net revenue in the horizon (`outcome`)."""
    assignments = connection.sql(f"""
        SELECT customer_id, variation_id AS arm, assigned_at FROM {ASSIGNMENTS_TABLE}
        WHERE experiment_id = $experiment AND is_analyzable AND variation_id IN ($arm, $control)
          AND assigned_at + to_days($horizon) <= $as_of
        ORDER BY customer_id
    """, params={"experiment": source.experiment_id, "arm": source.arm, "control": source.control,
                 "horizon": source.horizon_days, "as_of": as_of}).pl()
    outcomes = customer_outcomes(assignments, read_orders(connection, source.experiment_id), source.horizon_days, as_of)
    return outcomes.select("customer_id", "assigned_at", (pl.col("arm") == source.arm).alias("treated"),
                           pl.col(OUTCOME).alias("outcome"))


def numeric_inputs(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """The model's input columns as floats (booleans 0/1, unknown values NaN, which xgboost routes)."""
    return frame.select(pl.col(name).cast(pl.Float64).fill_null(float("nan")) for name in columns)


def fold_of(customer_ids: pl.Series, folds: int) -> np.ndarray:
    """Each customer's cross-fitting fold, from a hash of their id: the same every night."""
    return np.array([zlib.crc32(str(value).encode()) % folds for value in customer_ids.to_list()], dtype=np.int64)


def learn_uplift(training: pl.DataFrame, feature_names: list[str], source: ActionSource, settings: NextBestActionSettings,
                 uplift_settings: UpliftSettings = UpliftSettings()) -> LearnedUplift:
    """Cross-fit both learners on `training` (`customer_id`, `treated`, `outcome` and the features), judge
    them by Qini on held-out folds, refit the chosen one on everyone, and check that its targeting pays."""
    columns = [name for name in fit_feature_matrix(training, feature_names).numeric if name in training.columns]
    x = numeric_inputs(training, columns)
    arm = np.where(training["treated"].to_numpy(), source.arm, source.control)
    outcome = training["outcome"].to_numpy()
    folds = fold_of(training["customer_id"], settings.folds)
    names = list(LEARNERS) if settings.learner == "best" else [settings.learner]
    effects = {name: np.zeros(training.height) for name in names}
    for fold in range(settings.folds):
        held, fitted = folds == fold, folds != fold
        for name in names:
            model = LEARNERS[name](uplift_settings, control=source.control).fit(x.filter(pl.Series(fitted)), arm[fitted], outcome[fitted])
            effects[name][held] = model.predict(x.filter(pl.Series(held)))[source.arm].to_numpy()
    treated = training["treated"].to_numpy()
    qini = {name: qini_coefficient(effect, treated, outcome) for name, effect in effects.items()}
    chosen = max(qini, key=lambda name: qini[name])
    model = LEARNERS[chosen](uplift_settings, control=source.control).fit(x, arm, outcome)
    cross_fitted = training.select("customer_id", "treated", "outcome").with_columns(
        pl.Series("fold", folds), *(pl.Series(f"effect_{name}", effect) for name, effect in effects.items()))
    policy = estimate_policies(effects[chosen], treated, outcome, settings.actions[source.action].cost_usd,
                               settings.targeting_confidence)
    return LearnedUplift(source, chosen, model, columns, qini, cross_fitted, policy)
