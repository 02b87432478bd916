"""The champion/challenger rule and the registry that keeps it."""

import datetime as dt

import pytest

from ml.model_registry import ModelRegistry, decide_promotion


@pytest.mark.parametrize(("challenger", "champion", "baseline", "promoted"), [
    (0.80, None, 0.70, True),     # first model, better than the baseline
    (0.69, None, 0.70, False),    # first model, no better than the baseline: the baseline keeps scoring
    (0.801, 0.80, 0.70, False),   # better than the champion, but by less than the margin
    (0.79, 0.80, 0.70, False),    # worse than the champion
    (0.81, 0.80, 0.70, True),     # better by more than the margin
    (0.48, None, None, False),    # nothing to compare with, and no better than chance
    (0.60, 0.65, None, False),    # no baseline (it could not be fitted): the champion alone decides
])
def test_a_challenger_must_beat_baseline_and_champion_by_the_margin(challenger, champion, baseline, promoted):
    assert decide_promotion("roc_auc", 0.005, challenger, champion, baseline).promoted is promoted


@pytest.mark.parametrize(("total_ratio", "promoted"), [(1.38, False), (0.85, False), (1.06, True), (0.93, True)])
def test_a_value_model_must_also_predict_the_right_total(total_ratio, promoted):
    """A CLV challenger that ranks better than BG/NBD but predicts 38% more than customers spent is refused."""
    decision = decide_promotion("spearman", 0.002, 0.60, None, 0.55, total_ratio, max_total_error=0.10)
    assert decision.promoted is promoted
    if not promoted:
        assert f"{total_ratio:.0%} of the actual total" in decision.reason


def _champion_and_a_new_version(tmp_path, champion_auc: float) -> tuple[ModelRegistry, str, str]:
    """A registry whose first churn version became champion (baseline 0.70), and a second version."""
    registry = ModelRegistry(tmp_path)
    first, _ = registry.new_version_dir("churn", dt.datetime(2026, 1, 1), "a" * 16)
    registry.write_version("churn", first, {"metrics": {}})
    registry.record_decision("churn", first, decide_promotion("roc_auc", 0.002, champion_auc, None, 0.70))
    second, _ = registry.new_version_dir("churn", dt.datetime(2026, 2, 1), "b" * 16)
    registry.write_version("churn", second, {"metrics": {}})
    return registry, first, second


def test_a_refused_challenger_leaves_the_champion_and_says_why(tmp_path):
    registry, first, worse = _champion_and_a_new_version(tmp_path, 0.80)

    registry.record_decision("churn", worse, decide_promotion("roc_auc", 0.002, 0.75, 0.80, 0.70))

    assert registry.champion("churn") == first
    assert registry.versions("churn") == [first, worse]
    last = registry.decisions("churn")[-1]
    assert last["version"] == worse and not last["promoted"] and last["previous_champion"] == first
    assert "champion stays" in last["reason"]


def test_a_champion_worse_than_the_baseline_is_retired_for_the_baseline(tmp_path):
    registry, _, later = _champion_and_a_new_version(tmp_path, 0.72)

    # On the new evaluation rows the old champion (0.68) fell below the baseline (0.70).
    decision = decide_promotion("roc_auc", 0.002, 0.69, 0.68, 0.70)
    registry.record_decision("churn", later, decision)

    assert not decision.promoted and decision.retire_champion and registry.champion("churn") is None


def test_a_killed_runs_half_written_version_is_removed(tmp_path):
    registry = ModelRegistry(tmp_path)
    version, folder = registry.new_version_dir("clv", dt.datetime(2026, 1, 1), "c" * 16)
    (folder / "training_set.parquet").write_bytes(b"personal features")
    assert registry.remove_incomplete_versions("clv") == [version] and not folder.exists()
