"""The multi-arm simulator the uplift and next-best-action tests trust: its true effects must be what the arms show."""

import numpy as np
import pytest

from ml.measurement.simulated_uplift import ACTIONS, CONTROL, FEATURES, simulate_uplift_experiment


@pytest.fixture(scope="module")
def big():
    return simulate_uplift_experiment(400_000, np.random.default_rng(3))


@pytest.mark.parametrize("action", ACTIONS)
def test_the_true_effects_average_to_what_the_arm_shows_against_control(big, action):
    control, treated = big.outcome[big.arm == CONTROL], big.outcome[big.arm == action]
    standard_error = np.sqrt(control.var() / control.size + treated.var() / treated.size)
    # Randomized arms: the difference in means estimates the average true effect, within 3 standard errors (~$0.5).
    assert treated.mean() - control.mean() == pytest.approx(big.true_effect[action].mean(), abs=3 * standard_error)


@pytest.mark.parametrize("action", ACTIONS)
def test_some_customers_respond_most_do_not_and_a_few_respond_negatively(big, action):
    effect = big.true_effect[action]
    assert 0.15 < (effect > 0).mean() < 0.3
    assert 0.03 < (effect < 0).mean() < 0.07
    assert effect.min() < -5 and effect.max() > 10  # in dollars a month: worth targeting, and worth avoiding


def test_the_actions_move_different_customers(big):
    effects = np.column_stack([big.true_effect[action] for action in ACTIONS])
    assert np.abs(np.corrcoef(effects.T)[np.triu_indices(len(ACTIONS), 1)]).max() < 0.3
    # Each action is the best one for a good share of the customers some action helps.
    best = effects.argmax(axis=1)[effects.max(axis=1) > 0]
    assert np.bincount(best, minlength=len(ACTIONS)).min() > 0.1 * best.size


def test_customers_are_split_evenly_and_reproducibly_by_their_id(big):
    shares = [(big.arm == arm).mean() for arm in (CONTROL, *ACTIONS)]
    assert shares == pytest.approx([0.25] * 4, abs=0.005)
    again = simulate_uplift_experiment(1000, np.random.default_rng(99))
    assert (again.arm == big.arm[:1000]).all()  # the same ids and salt: the same arms, whatever else was drawn


def test_features_are_observable_columns_one_row_per_customer(big):
    assert big.features.columns == ["customer_id", *FEATURES]
    assert big.features["customer_id"].n_unique() == big.features.height == big.outcome.size


def test_an_unknown_arm_is_refused():
    with pytest.raises(ValueError, match="unknown arms"):
        simulate_uplift_experiment(100, np.random.default_rng(0), arms=(CONTROL, "free_shipping"))
