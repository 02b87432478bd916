"""CUPED: the pre-period soaks up variance without moving the difference, and gaps in it are survivable."""

import numpy as np
import pytest

from ml.measurement.cuped import cuped_comparison


def _experiment(n: int = 4000, seed: int = 5):
    """Outcome = pre-period spend + noise + 1 in treatment: corr(X, Y) about 0.9."""
    rng = np.random.default_rng(seed)
    pre = rng.gamma(2.0, 10.0, n)
    arm = np.where(np.arange(n) % 2 == 0, "control", "treatment")
    return pre + rng.normal(0, 6, n) + (arm == "treatment"), pre, arm


def test_theta_is_the_pooled_regression_slope_and_the_interval_narrows():
    outcome, pre, arm = _experiment()
    result = cuped_comparison(outcome, pre, arm)
    assert result.theta == pytest.approx(np.polyfit(pre, outcome, 1)[0])
    # corr about 0.92: the width shrinks by about 1 - sqrt(1 - 0.92**2), some 60%.
    assert result.ci_narrowing == pytest.approx(0.6, abs=0.05)
    assert result.adjusted.ci_low < 1.0 < result.adjusted.ci_high
    assert result.note is None


def test_customers_without_a_pre_period_get_the_mean_and_keep_their_outcome():
    outcome, pre, arm = _experiment()
    gappy = pre.astype(object)
    gappy[:100], gappy[100:200] = None, np.nan  # new customers, from a null and from a NaN
    result = cuped_comparison(outcome, gappy, arm)
    filled = np.where(np.arange(pre.size) < 200, pre[200:].mean(), pre)
    assert result.theta == pytest.approx(np.polyfit(filled, outcome, 1)[0])
    assert result.ci_narrowing > 0.5


def test_a_constant_pre_period_leaves_the_comparison_unadjusted_with_a_note():
    outcome, _, arm = _experiment()
    result = cuped_comparison(outcome, np.full(outcome.size, 7.0), arm)
    assert result.theta == 0.0 and result.ci_narrowing == pytest.approx(0.0)
    assert result.adjusted.difference == pytest.approx(result.unadjusted.difference)
    assert "same for every customer" in result.note


def test_no_pre_period_at_all_is_a_note_not_an_error():
    outcome, _, arm = _experiment(n=10)
    result = cuped_comparison(outcome, [None] * 10, arm)
    assert result.theta == 0.0 and "no customer has a pre-period" in result.note


def test_arms_other_than_the_two_compared_still_inform_theta():
    outcome, pre, arm = _experiment()
    arm = np.where(np.arange(arm.size) % 4 == 3, "treatment_b", arm)
    result = cuped_comparison(outcome, pre, arm)
    assert result.theta == pytest.approx(np.polyfit(pre, outcome, 1)[0])
    assert result.unadjusted.control_n + result.unadjusted.treatment_n == 3000
