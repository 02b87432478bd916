"""The settings: read once from the environment and the files it names, and strict about both,
so a misspelt name is an error that says where, never a setting silently ignored."""

import subprocess
import sys

import pytest

from dagster_project.settings import load_settings
from ml.model_settings import load_model_settings


def test_the_environment_sets_paths_and_knobs(tmp_path):
    settings = load_settings({"CXP_HOME": str(tmp_path / "home"), "CXP_ONLINE_STORE": "Redis", "CXP_SNAPSHOTS_KEPT": "3",
                              "CXP_DOCS_PORT": "3200"})
    assert settings.home == tmp_path / "home" and settings.landing == tmp_path / "home" / "landing"
    assert settings.online_store == "redis" and settings.snapshots_kept == 3 and settings.docs_port == 3200


@pytest.mark.parametrize("environment, message", [
    ({"CXP_ONLNE_STORE": "redis"}, r"CXP_ONLNE_STORE is not a cxp setting \(did you mean CXP_ONLINE_STORE\?\)"),
    ({"CXP_FEATURE_SERVER_PORT": "eighty"}, r"CXP_FEATURE_SERVER_PORT: Input should be a valid integer"),
    ({"CXP_ONLINE_STORE": "mongodb"}, r"CXP_ONLINE_STORE: Input should be 'sqlite' or 'redis' \(got 'mongodb'\)"),
    ({"CXP_SNAPSHOTS_KEPT": "-1"}, r"CXP_SNAPSHOTS_KEPT: Input should be greater than or equal to 0"),
])
def test_an_unknown_variable_or_a_wrong_value_is_an_error_naming_the_variable(environment, message):
    with pytest.raises(ValueError, match=message):
        load_settings(environment)


def test_a_misspelt_model_setting_names_the_file_and_the_key(tmp_path):
    override = tmp_path / "production.yml"
    override.write_text("labels:\n  churn: {horizon_day: 60}\n")
    with pytest.raises(ValueError, match=rf"{override}: unknown setting labels\.churn\.horizon_day"):
        load_settings({"CXP_HOME": str(tmp_path), "CXP_MODEL_SETTINGS": str(override)})
    override.write_text("promotion:\n  churn: {metric: accuracy}\n")
    with pytest.raises(ValueError, match=r"promotion\.churn\.metric: Input should be 'roc_auc', 'pr_auc' or 'spearman'"):
        load_model_settings(override)


def test_the_files_are_read_once_with_the_settings(tmp_path):
    override = tmp_path / "production.yml"
    override.write_text("labels:\n  propensity: {horizon_days: 60}\n")
    settings = load_settings({"CXP_HOME": str(tmp_path), "CXP_MODEL_SETTINGS": str(override)})
    override.write_text("labels:\n  propensity: {horizon_days: 7}\n")
    # A run keeps the settings it started with, whatever happens to the file meanwhile.
    assert settings.model_settings.labels.horizon_days("propensity") == 60
    assert settings.model_settings.labels.churn.horizon_days == load_model_settings().labels.churn.horizon_days


def test_the_cli_reports_a_configuration_error_without_a_traceback(tmp_path):
    thresholds = tmp_path / "thresholds.yml"
    thresholds.write_text("raw:\n  min_volum_ratio: 0.5\n")
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "CXP_HOME": str(tmp_path), "CXP_QUALITY_THRESHOLDS": str(thresholds)}
    done = subprocess.run([sys.executable, "-c", "from dagster_project.cli import run_cli; run_cli()", "erasures"],
                          env=environment, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert f"{thresholds}: unknown setting raw.min_volum_ratio" in done.stderr and "Traceback" not in done.stderr
