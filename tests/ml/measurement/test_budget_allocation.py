"""The budget greedy: best option per customer without a budget; with one, money goes where each dollar adds most."""

import numpy as np
import pytest

from ml.measurement.budget_allocation import allocate_budget

# Options: an email (cost $0.10) and a discount ($5). Customer 0 gains $1 from the email, $10 from the
# discount; customer 1 gains nothing from the email and $4 from the discount (net values, after cost).
VALUE = np.array([[1.0, 10.0], [-0.1, 4.0]])
COST = np.array([0.10, 5.0])
EVERYONE = np.ones((2, 2), dtype=bool)


def test_without_a_budget_each_customer_gets_their_most_valuable_option():
    assert allocate_budget(VALUE, COST, EVERYONE, None).tolist() == [1, 1]


@pytest.mark.parametrize("budget, chosen", [
    (10.0, [1, 1]),  # enough for both discounts
    (5.1, [1, -1]),  # customer 0's upgrade from the email earns $9 for $4.90; customer 1's discount $4 for $5
    (5.0, [1, -1]),  # exactly the email then the upgrade
    (4.0, [0, -1]),  # the upgrade no longer fits: customer 0 keeps the email
    (0.05, [-1, -1]),  # not even an email
])
def test_a_budget_goes_to_the_most_value_per_dollar(budget, chosen):
    assert allocate_budget(VALUE, COST, EVERYONE, budget).tolist() == chosen


def test_ineligible_and_valueless_options_are_never_chosen():
    eligible = np.array([[True, False], [True, True]])
    # Customer 0 may not have the discount; customer 1's email loses money, so none rather than the email.
    assert allocate_budget(VALUE, COST, eligible, None).tolist() == [0, 1]
    assert allocate_budget(np.full((2, 2), np.nan), COST, EVERYONE, None).tolist() == [-1, -1]


def test_free_options_are_given_whatever_the_budget():
    assert allocate_budget(np.array([[2.0, 10.0]]), np.array([0.0, 5.0]), np.ones((1, 2), bool), 0.0).tolist() == [0]


def test_spend_never_exceeds_the_budget_and_leaves_at_most_one_step_unspent():
    rng = np.random.default_rng(0)
    value, cost = rng.normal(1.0, 3.0, (5000, 4)), np.array([0.05, 1.0, 3.0, 8.0])
    eligible = rng.random((5000, 4)) < 0.8
    for budget in (50.0, 2000.0, 6000.0):
        chosen = allocate_budget(value, cost, eligible, budget)
        spend = cost[chosen[chosen >= 0]].sum()
        assert budget - cost.max() <= spend <= budget + 1e-9  # rounding of the summed costs aside
        assert (value[np.flatnonzero(chosen >= 0), chosen[chosen >= 0]] > 0).all()


@pytest.mark.parametrize("cost, budget, message", [
    (np.array([0.1]), None, "do not match"),  # one cost for two options
    (np.array([-1.0, 5.0]), None, "costs must be finite"),
    (COST, -1.0, "budget must be >= 0"),
])
def test_malformed_input_is_refused(cost, budget, message):
    with pytest.raises(ValueError, match=message):
        allocate_budget(VALUE, cost, EVERYONE, budget)
