"""Sample-ratio mismatch: chance drift passes, a broken split is flagged with the counts that show it."""

import pytest

from ml.measurement.sample_ratio import check_sample_ratio

HALVES = {"control": 0.5, "treatment": 0.5}


def test_a_chance_imbalance_passes():
    check = check_sample_ratio({"control": 5_100, "treatment": 4_900}, HALVES)
    assert not check.mismatch
    assert check.p_value == pytest.approx(0.0455, abs=0.0001)  # chi-square 4 on 1 degree of freedom


def test_a_broken_split_is_flagged_naming_arms_and_counts():
    check = check_sample_ratio({"control": 5_500, "treatment": 4_500}, HALVES)
    assert check.mismatch and check.p_value < 1e-20
    assert "control 5,500 observed vs 5,000 expected" in check.message
    assert "treatment 4,500 observed vs 5,000 expected" in check.message


def test_the_threshold_is_a_parameter():
    assert check_sample_ratio({"control": 5_100, "treatment": 4_900}, HALVES, threshold=0.05).mismatch


def test_an_arm_nobody_reached_counts_as_zero():
    check = check_sample_ratio({"control": 900}, {"control": 0.9, "treatment": 0.1})
    assert check.mismatch and check.observed == {"control": 900, "treatment": 0}


def test_customers_in_an_arm_configured_at_zero_are_a_mismatch():
    check = check_sample_ratio({"control": 500, "paused": 3, "treatment": 500}, {"control": 0.5, "paused": 0.0, "treatment": 0.5})
    assert check.mismatch and "paused 3 observed vs 0 expected" in check.message


def test_no_customers_yet_is_not_a_mismatch():
    check = check_sample_ratio({}, HALVES)
    assert not check.mismatch and check.p_value is None


def test_counts_for_an_unknown_arm_are_refused():
    with pytest.raises(ValueError, match="not configured"):
        check_sample_ratio({"control": 10, "treatmnet": 10}, HALVES)
