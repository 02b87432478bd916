"""Welch comparison of treatment with control: the numbers a lift report prints, and notes instead of crashes."""

import numpy as np
import pytest
from scipy import stats

from ml.measurement.lift import compare_arms


def test_difference_interval_and_p_value_are_welchs():
    rng = np.random.default_rng(3)
    control, treatment = rng.normal(10, 2, 300), rng.normal(10.6, 5, 80)  # unequal sizes and spreads
    lift = compare_arms(control, treatment, confidence=0.9)
    welch = stats.ttest_ind(treatment, control, equal_var=False)
    interval = welch.confidence_interval(0.9)
    assert (lift.control_n, lift.treatment_n) == (300, 80)
    assert lift.difference == pytest.approx(treatment.mean() - control.mean())
    assert lift.p_value == pytest.approx(welch.pvalue)
    assert (lift.ci_low, lift.ci_high) == (pytest.approx(interval.low), pytest.approx(interval.high))


def test_relative_lift_is_the_difference_over_the_control_mean_with_an_interval_around_it():
    lift = compare_arms([0, 1, 0, 0, 1] * 200, [0, 1, 1, 0, 1] * 200)  # conversion 40% -> 60%
    assert lift.relative_lift == pytest.approx(0.5)
    assert lift.relative_ci_low < 0.5 < lift.relative_ci_high
    assert lift.note is None


def test_a_control_mean_of_zero_gives_no_relative_lift_but_still_a_difference():
    lift = compare_arms([0.0, 0.0, 0.0], [0.0, 5.0, 1.0])
    assert lift.relative_lift is None and lift.relative_ci_low is None
    assert lift.difference == pytest.approx(2.0) and lift.p_value is not None
    assert "control mean is 0" in lift.note


@pytest.mark.parametrize("control, treatment, note", [
    ([], [1.0, 2.0], "too few customers"),  # an arm nobody reached yet
    ([3.0], [1.0, 2.0], "too few customers"),  # one customer has no variance estimate
    ([1.0, 1.0, 1.0], [2.0, 2.0], "same outcome"),  # nobody varies: the difference is exact, not tested
])
def test_degenerate_arms_give_a_note_instead_of_an_interval(control, treatment, note):
    lift = compare_arms(control, treatment)
    assert (lift.ci_low, lift.ci_high, lift.p_value) == (None, None, None)
    assert (lift.control_n, lift.treatment_n) == (len(control), len(treatment))
    assert lift.treatment_mean == pytest.approx(np.mean(treatment))
    assert note in lift.note


def test_missing_outcomes_are_refused_not_averaged_away():
    with pytest.raises(ValueError, match="treatment has 1 missing"):
        compare_arms([1.0, 2.0], [1.0, float("nan")])
