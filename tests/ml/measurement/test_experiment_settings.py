"""Experiments and the holdout are configured in YAML and refused, with the reason, when they cannot be run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dagster_project.yaml_overrides import SettingsError
from ml.measurement.experiment_settings import load_measurement_settings

WINBACK = """
experiments:
  winback-2027-q1:
    name: Win-back discount
    arms: {control: 0.5, discount_15: 0.5}
    start: 2027-01-10
    horizon_days: 60
    primary_metric: revenue_per_customer
    eligibility: {min_orders: 1, email_marketable_only: true}
"""


def _override(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "experiments.yml"
    path.write_text(text)
    return path


def test_the_defaults_hold_out_five_percent_and_run_no_experiment() -> None:
    settings = load_measurement_settings()
    assert settings.holdout.share == 0.05 and settings.experiments == {}


def test_an_experiment_from_an_override_file(tmp_path: Path) -> None:
    settings = load_measurement_settings(_override(tmp_path, WINBACK + "holdout: {share: 0.1}\n"))
    winback = settings.experiments["winback-2027-q1"]
    assert winback.arms == {"control": 0.5, "discount_15": 0.5} and winback.eligibility.min_orders == 1
    assert winback.ends() == dt.date(2027, 3, 10)
    assert settings.holdout.share == 0.1 and settings.holdout.salt == "global-holdout"


@pytest.mark.parametrize(("change", "message"), [
    (("{control: 0.5, discount_15: 0.5}", "{control: 0.5, discount_15: 0.4}"), "sum to 1"),
    (("{control: 0.5, discount_15: 0.5}", "{control: 1.0}"), "at least one other arm"),
    (("{control: 0.5, discount_15: 0.5}", "{holdback: 0.5, discount_15: 0.5}"), "control arm 'control'"),
    (("revenue_per_customer", "opens"), "primary_metric"),
    (("horizon_days: 60", "horizon_days: 0"), "horizon_days"),
])
def test_an_experiment_that_cannot_be_run_is_refused_with_the_reason(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_measurement_settings(_override(tmp_path, WINBACK.replace(*change)))


def test_the_holdout_salt_cannot_name_an_experiment(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="also an experiment id"):
        load_measurement_settings(_override(tmp_path, WINBACK + "holdout: {salt: winback-2027-q1}\n"))
