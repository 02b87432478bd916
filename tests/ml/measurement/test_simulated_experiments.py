"""The simulator the calibration tests trust: its closed-form truth must match what it draws."""

import numpy as np
import pytest

from ml.measurement.simulated_experiments import Population, simulate_experiment

POPULATION = Population()


@pytest.fixture(scope="module")
def big():
    return simulate_experiment(500_000, np.random.default_rng(11))


def test_the_closed_form_effect_is_the_mean_of_the_individual_effects(big):
    assert big.true_effect == POPULATION.true_average_effect() > 0
    assert big.individual_effect.mean() == pytest.approx(big.true_effect, rel=0.02)


def test_the_closed_form_spend_is_the_mean_control_outcome(big):
    assert big.outcome[big.arm == "control"].mean() == pytest.approx(POPULATION.average_spend(), rel=0.02)


def test_outcomes_look_like_revenue_and_the_pre_period_is_correlated_as_documented(big):
    assert 0.6 < (big.outcome == 0).mean() < 0.8  # most customers spend nothing in a month
    assert np.mean((big.outcome - big.outcome.mean()) ** 3) / big.outcome.std() ** 3 > 3  # skewed right
    assert np.corrcoef(big.covariate, big.outcome)[0, 1] == pytest.approx(0.70, abs=0.03)


def test_the_effect_is_heterogeneous(big):
    effect = big.individual_effect
    assert (effect > 0).mean() == pytest.approx(0.20, abs=0.01) and (effect < 0).mean() == pytest.approx(0.05, abs=0.01)


def test_an_a_a_experiment_has_no_effect_for_anyone():
    aa = simulate_experiment(1000, np.random.default_rng(1), with_effect=False)
    assert aa.true_effect == 0.0 and not aa.individual_effect.any()
    assert (aa.arm == "control").sum() == (aa.arm == "treatment").sum() == 1000
