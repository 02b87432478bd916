"""The text `cxp eval models` prints says one thing about champions, not two."""

from ml.model_report import ModelReport, render_model_report

CLASSIFIER = {"roc_auc": 0.8, "pr_auc": 0.4, "brier": 0.1, "lift_top_10pct": 2.5}


def report(champion: str | None) -> ModelReport:
    return ModelReport(model="churn", version="v2", champion=champion, decision="promoted: first version", horizon_days=90,
                       metrics={"challenger": CLASSIFIER, "baseline": CLASSIFIER}, rows=100, note="evaluation cutoff 2026-01-01")


def test_a_first_version_promoted_is_not_also_said_to_have_no_champion():
    text = render_model_report(report(champion="v2"))
    assert "champion now: v2" in text
    assert "no champion existed" not in text
    assert "it is the champion now" in text


def test_a_version_that_met_no_champion_and_was_not_promoted_says_so():
    text = render_model_report(report(champion=None))
    assert "no champion existed when this version was evaluated; champion now: none" in text
