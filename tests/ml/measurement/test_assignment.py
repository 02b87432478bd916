"""Arm assignment by salted hash: the same customer always lands in the same arm, in the shares asked for."""

import numpy as np
import polars as pl
import pytest
from scipy import stats

from ml.measurement.assignment import assign_arms, in_holdout, unit_interval

KEYS = pl.Series([f"customer-{i}" for i in range(100_000)])
ARMS = {"control": 0.5, "subject_line_a": 0.3, "subject_line_b": 0.2}


def test_the_hash_is_pinned_so_running_experiments_keep_their_arms():
    # sha256(b"exp-2024-welcome:customer-1") starts d7dfbe3609a1fcbd; its top 53 bits over 2**53.
    assert unit_interval(["customer-1"], "exp-2024-welcome")[0] == (0xD7DFBE3609A1FCBD >> 11) / 2**53
    arms = assign_arms([f"customer-{i}" for i in range(1, 7)], "exp-2024-welcome", {"control": 0.5, "treatment": 0.5})
    assert arms.to_list() == ["treatment", "treatment", "treatment", "control", "treatment", "control"]


def test_a_customers_arm_does_not_depend_on_who_else_is_assigned_or_in_what_order():
    everyone = assign_arms(KEYS, "exp-1", ARMS)
    shuffled = np.random.default_rng(0).permutation(len(KEYS))
    assert assign_arms(KEYS[shuffled], "exp-1", ARMS).to_list() == everyone[shuffled].to_list()
    assert assign_arms(KEYS[:10], "exp-1", ARMS).to_list() == everyone[:10].to_list()


def test_arms_get_their_configured_shares():
    counts = assign_arms(KEYS, "exp-1", ARMS).value_counts()
    observed = [counts.filter(pl.col("arm") == arm)["count"].item() for arm in ARMS]
    assert stats.chisquare(observed, [share * len(KEYS) for share in ARMS.values()]).pvalue > 0.001


def test_different_experiments_split_the_same_customers_independently():
    first = assign_arms(KEYS, "exp-1", {"control": 0.5, "treatment": 0.5})
    second = assign_arms(KEYS, "exp-2", {"control": 0.5, "treatment": 0.5})
    table = pl.DataFrame({"first": first, "second": second}).group_by("first", "second").len()["len"].to_numpy()
    assert stats.chisquare(table).pvalue > 0.001  # all four combinations equally common


def test_an_arm_with_zero_share_gets_nobody():
    arms = assign_arms(KEYS[:10_000], "exp-1", {"control": 0.5, "paused": 0.0, "treatment": 0.5})
    assert set(arms.unique()) == {"control", "treatment"}


def test_the_holdout_takes_its_share_and_each_arm_in_proportion():
    arms, held_out = assign_arms(KEYS, "exp-1", ARMS), in_holdout(KEYS)
    assert stats.binomtest(int(held_out.sum()), len(KEYS), 0.05).pvalue > 0.001
    inside = arms.filter(held_out).value_counts()
    observed = [inside.filter(pl.col("arm") == arm)["count"].item() for arm in ARMS]
    assert stats.chisquare(observed, [share * sum(observed) for share in ARMS.values()]).pvalue > 0.001


def test_a_holdout_salted_with_an_experiments_id_is_still_independent_of_its_arms():
    # Unnamespaced, the 5% holdout would be exactly this experiment's 5% control arm.
    control = assign_arms(KEYS, "exp-1", {"control": 0.05, "treatment": 0.95}) == "control"
    held_out = in_holdout(KEYS, salt="exp-1", share=0.05)
    assert abs((control & held_out).sum() / len(KEYS) - 0.05 * 0.05) < 0.001


@pytest.mark.parametrize("arms, message", [
    ({}, "at least one arm"),  # no arms at all
    ({"control": 0.5, "treatment": 0.4}, "sum to 1"),  # a share forgotten
    ({"control": 1.2, "treatment": -0.2}, ">= 0"),  # negative share that makes the sum right
    ({"control": float("nan"), "treatment": 0.5}, "finite"),  # a NaN from a broken config
])
def test_bad_shares_are_refused_with_a_reason(arms, message):
    with pytest.raises(ValueError, match=message):
        assign_arms(KEYS[:3], "exp-1", arms)


def test_a_null_key_is_refused():
    with pytest.raises(ValueError, match="null"):
        assign_arms(pl.Series(["customer-1", None]), "exp-1", {"control": 1.0})
