"""The bias audit flags a segment the model treats differently, and only one large enough to judge."""

import numpy as np
import polars as pl
import pytest

from ml.bias_audit import audit_bias, audit_markdown, audit_report
from ml.model_settings import load_model_settings


@pytest.fixture
def fairness():
    return load_model_settings().fairness


def _rows(n: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame({"label": (rng.random(n) < 0.3).astype(float), "country": rng.choice(["US", "DE", "FR"], n),
                         "age_band": rng.choice(["25-34", "35-44"], n), "acquisition_source": rng.choice(["Web", "Other"], n)})


def test_a_segment_scored_higher_for_the_same_outcome_is_flagged(fairness):
    rows = _rows(3000, 1)
    rng = np.random.default_rng(2)
    fair = np.clip(0.2 + 0.4 * rows["label"].to_numpy() + 0.2 * rng.random(rows.height), 0, 1)
    biased = np.clip(fair + 0.3 * (rows["country"] == "FR").to_numpy(), 0, 1)
    fair_report = audit_report(audit_bias("classifier", rows, fair, fairness), fairness)
    biased_report = audit_report(audit_bias("classifier", rows, biased, fairness), fairness)
    assert not [flag for flag in fair_report["flagged"] if flag.startswith("country=")]
    flagged = {flag.split(":")[0] for flag in biased_report["flagged"]}
    assert "country=FR" in flagged
    france = next(s for s in biased_report["segments"] if s["segment"] == "FR")
    assert france["ratios"]["selection_rate"] > fairness.max_disparity_ratio and france["calibration_ratio"] > 1.2
    assert "country=FR" in audit_markdown(biased_report)


def test_a_segment_too_small_to_judge_is_listed_but_not_flagged(fairness):
    rows = _rows(1000, 3).with_row_index().with_columns(
        pl.when(pl.col("index") < 10).then(pl.lit("IS")).otherwise(pl.col("country")).alias("country")).drop("index")
    score = np.where((rows["country"] == "IS").to_numpy(), 0.99, 0.3)
    iceland = next(s for s in audit_report(audit_bias("classifier", rows, score, fairness), fairness)["segments"] if s["segment"] == "IS")
    assert iceland["rows"] == 10 and not iceland["judged"] and iceland["flags"] == []


def test_lifetime_value_is_audited_on_relative_error_and_calibration(fairness):
    rows = _rows(2000, 4).with_columns(pl.Series("label", np.random.default_rng(5).gamma(2.0, 50.0, 2000)))
    score = rows["label"].to_numpy() * np.where((rows["age_band"] == "25-34").to_numpy(), 2.0, 1.0)
    report = audit_report(audit_bias("regressor", rows, score, fairness), fairness)
    young = next(s for s in report["segments"] if s["segment"] == "25-34")
    assert young["selection_rate"] is None and young["relative_error"] > 0.5 and young["calibration_ratio"] == pytest.approx(2.0)
    assert any(flag.startswith("age_band=25-34") for flag in report["flagged"])


def test_models_do_not_learn_from_country_or_birthdate_unless_configured(fairness, tmp_path):
    offered = ["orders_90d", "country_code", "birthdate", "days_since_last_order"]
    assert fairness.allowed_inputs(offered) == ["orders_90d", "days_since_last_order"]
    (tmp_path / "models.yml").write_text("fairness: {use_protected_inputs: true}\n")
    assert load_model_settings(tmp_path / "models.yml").fairness.allowed_inputs(offered) == offered
