"""Names and words follow the label windows in the settings: with propensity and churn looking 90
days ahead and CLV 180, nothing a user reads still says 30 or 365 days."""

import pytest

from dagster_project.defs.ml.assets import challenger_key, model_assets
from feature_repo.customer_scores import build_customer_scores_view
from ml.model_catalog import MODELS
from ml.model_report import ModelReport, render_model_report
from ml.model_settings import LabelWindows
from ml.score_explanation import ModelScore

WINDOWS = LabelWindows.model_validate({"churn": {"active_days": 365, "horizon_days": 90}, "propensity": {"horizon_days": 90}, "clv": {"horizon_days": 180}})
STALE = ("30 days", "365 days")


def assert_says(text: str, days: int) -> None:
    assert f"next {days} days" in text, text
    assert not any(stale in text for stale in STALE), text


@pytest.mark.parametrize("model", MODELS)
def test_the_served_score_keeps_its_name_and_says_its_window(model, tmp_path):
    view = build_customer_scores_view(tmp_path, {name: WINDOWS.horizon_days(name) for name in MODELS})
    field = next(field for field in view.schema if field.name == MODELS[model].score)
    assert_says(field.description, WINDOWS.horizon_days(model))
    assert field.tags["horizon_days"] == str(WINDOWS.horizon_days(model))
    assert not any(part.endswith("d") and part[:-1].isdigit() for part in field.name.split("_"))  # no window in the name


@pytest.mark.parametrize("model", MODELS)
def test_the_dagster_asset_says_the_window(model):
    challenger = next(asset for asset in model_assets(WINDOWS) if challenger_key(model) in asset.keys)
    assert_says(challenger.descriptions_by_key[challenger_key(model)], WINDOWS.horizon_days(model))


@pytest.mark.parametrize("model", MODELS)
def test_eval_and_explain_texts_say_the_window(model):
    days = WINDOWS.horizon_days(model)
    report = ModelReport(model=model, version=None, champion=None, decision=None, metrics={}, rows=0,
                         note="no version trained yet", horizon_days=days)
    assert_says(render_model_report(report), days)
    assert_says(ModelScore(MODELS[model], 0.5, "v1", [], days).description, days)
