"""Learning an action's uplift from its experiment: which experiment it learns from, cross-fitted effects,
and the check that a model's targeting pays on held-out customers before the night trusts it."""

from datetime import datetime, timedelta

import duckdb
import numpy as np
import polars as pl
import pytest

from ml.measurement.experiment_settings import load_measurement_settings
from ml.measurement.simulated_uplift import CONTROL, FEATURES, simulate_uplift_experiment
from ml.measurement.uplift_training import ActionSource, estimate_policies, find_action_sources, learn_uplift

SETTINGS = load_measurement_settings()
NBA = SETTINGS.next_best_action.model_copy(update={"actions": {"discount_offer": SETTINGS.next_best_action.actions["discount_15"].model_copy(
    update={"cost_usd": 1.0})}})
SOURCE = ActionSource("discount_offer", "sim", "discount_offer", CONTROL, 30, {})


def _training(n: int, seed: int, constant_effect: float | None = None) -> tuple[pl.DataFrame, np.ndarray]:
    experiment = simulate_uplift_experiment(n, np.random.default_rng(seed), arms=(CONTROL, "discount_offer"))
    treated = experiment.arm == "discount_offer"
    outcome, effect = experiment.outcome, experiment.true_effect["discount_offer"]
    if constant_effect is not None:  # the same lift for everyone: nothing to target
        outcome = np.where(treated, experiment.outcome - effect + constant_effect, experiment.outcome)
        effect = np.full(n, constant_effect)
    frame = experiment.features.with_columns(pl.Series("treated", treated), pl.Series("outcome", outcome))
    return frame, effect


def test_a_model_that_ranks_well_on_held_out_customers_targets_them():
    training, true_effect = _training(25_000, seed=3)
    learned = learn_uplift(training, list(FEATURES), SOURCE, NBA)
    assert set(learned.qini) == {"t_learner", "x_learner"} and learned.learner == max(learned.qini, key=learned.qini.get)
    # Every customer's cross-fitted effect comes from a model fitted on the other folds.
    assert learned.cross_fitted.height == training.height and sorted(learned.cross_fitted["fold"].unique()) == [0, 1, 2]
    held_out = learned.cross_fitted[f"effect_{learned.learner}"].to_numpy()
    assert np.corrcoef(held_out, true_effect)[0, 1] > 0.45
    assert learned.targets and learned.policy.targeted_value_usd > learned.policy.everyone_value_usd
    served = learned.predict(training)
    assert served.std() > 0 and learned.version.startswith(f"{learned.learner} on sim")


def test_without_anything_to_target_the_night_uses_the_average_effect():
    training, _ = _training(10_000, seed=4, constant_effect=6.0)
    learned = learn_uplift(training, list(FEATURES), SOURCE, NBA)
    assert not learned.targets
    assert learned.policy.average_effect_usd == pytest.approx(6.0, abs=1.5)
    assert (learned.predict(training) == learned.policy.average_effect_usd).all()
    assert learned.version.startswith("average effect of sim")


def test_policy_values_are_differences_in_means_among_the_customers_each_policy_targets():
    treated = np.array([True, False, True, False])
    outcome = np.array([10.0, 4.0, 3.0, 3.0])
    effect = np.array([5.0, 5.0, 0.0, 0.0])  # targets the first pair
    policy = estimate_policies(effect, treated, outcome, cost_usd=1.0)
    assert policy.targeted == 2 and policy.targeted_value_usd == pytest.approx(2 * (10 - 4 - 1))
    assert policy.everyone_value_usd == pytest.approx(4 * (6.5 - 3.5 - 1)) and policy.average_effect_usd == pytest.approx(3.0)


def _split_experiment(customers: int, noise_usd: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Half the customers gain $6 from the action, half lose $1; the effect given is the true one."""
    rng = np.random.default_rng(seed)
    responds = np.arange(customers) % 2 == 0
    treated = rng.random(customers) < 0.5
    outcome = 20 + rng.normal(0, noise_usd, customers) + treated * np.where(responds, 6.0, -1.0)
    return np.where(responds, 6.0, -1.0), treated, outcome


def test_targeting_must_beat_the_blanket_policy_with_confidence_not_by_chance():
    # A large, quiet experiment: targeting the responders is surely worth more than treating everyone.
    effect, treated, outcome = _split_experiment(40_000, noise_usd=10.0, seed=5)
    sure = estimate_policies(effect, treated, outcome, cost_usd=1.0)
    assert sure.gain_lower_bound_usd > 0 and sure.targeting_pays
    # A small, noisy one: the point estimate favours targeting too, but the gain could be chance.
    effect, treated, outcome = _split_experiment(600, noise_usd=60.0, seed=1)
    unsure = estimate_policies(effect, treated, outcome, cost_usd=1.0)
    assert unsure.targeted_value_usd > max(unsure.everyone_value_usd, 0.0)
    assert unsure.gain_lower_bound_usd < 0 and not unsure.targeting_pays
    # Comparing point estimates alone (confidence 0.5 is the median gain) would have targeted.
    assert estimate_policies(effect, treated, outcome, cost_usd=1.0, confidence=0.5).targeting_pays


def _assignments_warehouse(rows: list[tuple[str, str, str, datetime]]) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute("CREATE SCHEMA marts")
    connection.execute("CREATE TABLE marts.fct_experiment_assignments (experiment_id VARCHAR, customer_id VARCHAR, variation_id VARCHAR, "
                       "assigned_at TIMESTAMP, is_analyzable BOOLEAN)")
    connection.executemany("INSERT INTO marts.fct_experiment_assignments VALUES (?, ?, ?, ?, true)", rows)
    return connection


def test_an_action_learns_from_the_newest_experiment_whose_horizon_has_ended():
    as_of = datetime(2026, 6, 1)
    old, recent, running = as_of - timedelta(days=300), as_of - timedelta(days=90), as_of - timedelta(days=10)
    rows = [(experiment, f"{experiment}-{arm}-{i}", arm, start) for experiment, start in (("spring", old), ("summer", recent), ("now", running))
            for arm in ("control", "discount_15") for i in range(120)]
    settings = SETTINGS.model_copy(update={"next_best_action": SETTINGS.next_best_action.model_copy(
        update={"actions": {**SETTINGS.next_best_action.actions, "content_email": SETTINGS.next_best_action.actions["discount_15"]}})})
    with _assignments_warehouse(rows) as connection:
        sources, missing = find_action_sources(connection, settings, as_of)
    # "now" started 10 days ago: its 60-day horizon has not ended, so "summer" is the newest usable one.
    assert sources["discount_15"].experiment_id == "summer" and sources["discount_15"].customers == {"discount_15": 120, "control": 120}
    assert missing == {"content_email": "no experiment in the assignment logs has an arm 'content_email' next to a control arm"}


def test_an_experiment_too_small_to_learn_from_is_named_with_its_counts():
    as_of = datetime(2026, 6, 1)
    rows = [("tiny", f"{arm}-{i}", arm, as_of - timedelta(days=90)) for arm in ("control", "discount_15") for i in range(30)]
    with _assignments_warehouse(rows) as connection:
        sources, missing = find_action_sources(connection, SETTINGS, as_of)
    assert not sources
    assert missing["discount_15"].startswith("tiny (discount_15 vs control) has 30 and 30 customers whose 60-day horizon has ended")
