"""Qini curve, Qini coefficient and AUUC: a hand-computed example, ties, degenerate input, and the
ordering random < model < oracle on simulated customers whose true effects are known."""

import numpy as np
import pytest

from ml.measurement.qini import area_under_uplift_curve, compare_to_oracle, qini_coefficient, qini_curve, uplift_curve
from ml.measurement.simulated_uplift import simulate_uplift_experiment

# Six customers, best score first; treated and control alternate.
SCORE = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
TREATED = [1, 0, 1, 0, 1, 0]
OUTCOME = [10.0, 2.0, 5.0, 4.0, 0.0, 3.0]


def test_the_qini_curve_matches_the_hand_computed_one():
    # Q(k) = Y_t - Y_c * n_t / n_c: k=1 10 (no control yet: 0), k=2 10-2, k=3 15-2*2, k=4 15-6, k=5 15-6*3/2, k=6 15-9.
    curve = qini_curve(SCORE, TREATED, OUTCOME)
    assert curve.fraction.tolist() == pytest.approx([0, 1 / 6, 2 / 6, 3 / 6, 4 / 6, 5 / 6, 1])
    assert curve.gain.tolist() == pytest.approx([0, 10, 8, 11, 9, 6, 6])


def test_the_qini_coefficient_is_the_area_between_the_curve_and_the_random_line():
    # Trapezoids: (0/2 + 10 + 8 + 11 + 9 + 6 + 6/2) / 6 = 47/6; the random line to (1, 6) has area 3.
    assert qini_coefficient(SCORE, TREATED, OUTCOME) == pytest.approx(47 / 6 - 3)


def test_the_auuc_is_the_area_under_the_difference_in_means_times_customers_targeted():
    # U(k) = (mean_t - mean_c) * k: 10, (10-2)*2, (7.5-2)*3, (7.5-3)*4, (5-3)*5, (5-3)*6.
    assert uplift_curve(SCORE, TREATED, OUTCOME).gain.tolist() == pytest.approx([0, 10, 16, 16.5, 18, 10, 12])
    assert area_under_uplift_curve(SCORE, TREATED, OUTCOME) == pytest.approx((10 + 16 + 16.5 + 18 + 10 + 12 / 2) / 6)


def test_tied_scores_are_one_step_whatever_their_order():
    curve = qini_curve([1, 1, 0, 0], [1, 0, 1, 0], [5, 1, 0, 2])
    swapped = qini_curve([1, 1, 0, 0], [0, 1, 0, 1], [1, 5, 2, 0])
    assert curve.fraction.tolist() == swapped.fraction.tolist() == [0, 0.5, 1]
    assert curve.gain.tolist() == swapped.gain.tolist() == [0, 4, 2]


def test_a_constant_score_is_the_random_line_with_a_coefficient_of_zero():
    assert qini_curve(np.zeros(6), TREATED, OUTCOME).gain.tolist() == [0, 6]
    assert qini_coefficient(np.zeros(6), TREATED, OUTCOME) == 0.0


@pytest.mark.parametrize("treated", [[0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1]])
def test_customers_of_one_arm_only_are_refused_with_a_clear_error(treated):
    with pytest.raises(ValueError, match="needs treated and control customers"):
        qini_coefficient(SCORE, treated, OUTCOME)


@pytest.mark.parametrize("score, outcome, message", [
    (SCORE[:5], OUTCOME, "differ in length"),  # a score missing
    ([np.nan, *SCORE[1:]], OUTCOME, "must be finite"),  # a customer without a score
    (SCORE, [np.nan, *OUTCOME[1:]], "must be finite"),  # a customer without an outcome
])
def test_malformed_input_is_refused(score, outcome, message):
    with pytest.raises(ValueError, match=message):
        qini_curve(score, TREATED, outcome)


def test_no_ratio_to_the_oracle_when_the_true_effects_are_all_zero():
    assert compare_to_oracle(SCORE, np.zeros(6), TREATED, OUTCOME).ratio is None


@pytest.fixture(scope="module")
def held_out():
    drawn = simulate_uplift_experiment(400_000, np.random.default_rng(5), arms=("control", "discount_offer"))
    return drawn.true_effect["discount_offer"], drawn.arm == "discount_offer", drawn.outcome


def test_a_random_score_has_a_coefficient_near_zero(held_out):
    truth, treated, outcome = held_out
    oracle = qini_coefficient(truth, treated, outcome)
    rng = np.random.default_rng(0)
    randoms = [qini_coefficient(rng.random(truth.size), treated, outcome) for _ in range(5)]
    assert oracle > 0
    assert max(abs(value) for value in randoms) < 0.1 * oracle


def test_the_true_effect_ranks_best(held_out):
    truth, treated, outcome = held_out
    rng = np.random.default_rng(1)
    oracle = qini_coefficient(truth, treated, outcome)
    # Rankings that know less: the truth blurred by noise, more and more, and then reversed. (Blurs much
    # smaller than the effects, which reach $20, move the coefficient less than the outcomes' noise does.)
    blurred = [qini_coefficient(truth + rng.normal(0, scale, truth.size), treated, outcome) for scale in (8.0, 16.0)]
    assert oracle > blurred[0] > blurred[1] > 0 > qini_coefficient(-truth, treated, outcome)
