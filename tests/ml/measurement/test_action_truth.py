"""A night's uplift and next-best action judged against planted effects (hand-made truth)."""

import polars as pl
import pytest

from ml.measurement.action_truth import compare_action_with_truth, true_effects

TRUTH = pl.DataFrame({
    "experiment_id": ["offer"] * 4 + ["other"],
    "person_id": ["p1", "p2", "p3", "p4", "p1"],
    "expected_incremental_orders": [0.5, 0.1, -0.2, 0.0, 9.0],
    "profile_expected_incremental_orders": [0.25, 0.3, -0.1, 0.0, 4.5],
    "orders_if_control": [1, 0, 1, 0, 0],
    "orders_if_treated": [1, 0, 0, 0, 0],
    "revenue_if_treated_usd": [120.0, 20.0, 0.0, 50.0, 0.0],
    "revenue_if_control_usd": [40.0, 20.0, 60.0, 50.0, 0.0],
})
PEOPLE = pl.DataFrame({"person_id": ["p1", "p2", "p3", "p4"], "spend_mean_usd": [100.0, 50.0, 100.0, 80.0]})
PERSONS = pl.DataFrame({"customer_id": ["c1", "c2", "c3", "c4"], "person_id": ["p1", "p2", "p3", "p4"]})
CROSS_FITTED = pl.DataFrame({
    "customer_id": ["c1", "c2", "c3", "c4"], "treated": [True, False, True, False], "outcome": [120.0, 20.0, 0.0, 50.0],
    "effect_t_learner": [30.0, 2.0, 10.0, -5.0],  # ranks c3 (hurt by the offer) above c2
})


def test_true_effects_are_incremental_orders_at_what_an_order_is_worth_and_the_realized_difference():
    effects = true_effects(TRUTH, PEOPLE, PERSONS, "offer").sort("customer_id")
    # Orders are worth 1.2x their latent mean here: $360 of revenue over 3 orders of $300 latent value.
    assert effects["true_effect_usd"].to_list() == pytest.approx([60.0, 6.0, -24.0, 0.0])
    assert effects["profile_effect_usd"].to_list() == pytest.approx([30.0, 18.0, -12.0, 0.0])
    assert effects["realized_effect_usd"].to_list() == pytest.approx([80.0, 0.0, -60.0, 0.0])


def test_policies_are_valued_at_the_true_effect_net_of_cost_of_whom_they_target():
    effects = true_effects(TRUTH, PEOPLE, PERSONS, "offer")
    truth = compare_action_with_truth("discount", CROSS_FITTED, effects, cost_usd=4.0, learner="t_learner",
                                      targets=True, average_effect_usd=10.0)
    # The model targets c1 and c3 (effect above the $4 cost): 60 - 4 and -24 - 4.
    assert truth.next_best_action.targeted == 2 and truth.next_best_action.expected == pytest.approx(28.0)
    assert truth.next_best_action.realized == pytest.approx(80 - 4 - 60 - 4)
    assert truth.everyone.expected == pytest.approx(42.0 - 16.0) and truth.nobody.expected == 0.0
    assert truth.oracle.targeted == 2 and truth.oracle.expected == pytest.approx(56.0 + 2.0)
    assert truth.profile_oracle_qini is not None
    assert truth.best_single == ("everyone", truth.everyone)
    assert truth.customers == 4 and 0 < truth.qini["t_learner"].oracle


def test_a_night_that_did_not_trust_its_model_is_judged_as_the_blanket_policy_it_served():
    effects = true_effects(TRUTH, PEOPLE, PERSONS, "offer")
    served = compare_action_with_truth("discount", CROSS_FITTED, effects, 4.0, "t_learner", targets=False, average_effect_usd=10.0)
    assert served.next_best_action == served.everyone and served.model_targeting.targeted == 2
    withheld = compare_action_with_truth("discount", CROSS_FITTED, effects, 4.0, "t_learner", targets=False, average_effect_usd=3.0)
    assert withheld.next_best_action == withheld.nobody
