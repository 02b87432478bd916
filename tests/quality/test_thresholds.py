"""Quality thresholds: the shipped defaults, overridden per environment by a YAML file of the same shape."""

from datetime import date

import pytest

from dagster_project.settings import load_settings
from data_quality.thresholds import load_quality_thresholds


def test_an_environment_file_overrides_only_the_keys_it_sets(tmp_path, monkeypatch):
    override = tmp_path / "production.yml"
    override.write_text("raw:\n  min_volume_ratio: 0.5\n  sources:\n    crm_contacts: {max_quarantined_share: 0.01}\n")
    monkeypatch.setenv("CXP_QUALITY_THRESHOLDS", str(override))
    thresholds = load_settings().quality_thresholds
    defaults = load_quality_thresholds()
    assert thresholds.raw.min_volume_ratio == 0.5
    assert thresholds.raw.trailing_partitions == defaults.raw.trailing_partitions
    # A source's own thresholds apply to it alone, on top of the environment's raw defaults.
    assert thresholds.for_source("crm_contacts").max_quarantined_share == 0.01
    assert thresholds.for_source("crm_contacts").min_volume_ratio == 0.5
    assert thresholds.for_source("ecommerce_orders").max_quarantined_share == defaults.raw.max_quarantined_share
    # The shipped per-source defaults survive an override that does not touch them.
    assert thresholds.for_source("email_events").max_volume_ratio == defaults.for_source("email_events").max_volume_ratio


def test_dates_and_numbers_are_typed(tmp_path):
    override = tmp_path / "t.yml"
    override.write_text("raw:\n  oldest_plausible_timestamp: '2010-06-01'\n  future_slack_hours: '6'\n")
    thresholds = load_quality_thresholds(override)
    assert thresholds.raw.oldest_plausible_timestamp == date(2010, 6, 1)
    assert thresholds.raw.future_slack_hours == 6


@pytest.mark.parametrize("content, named", [
    ("raw:\n  min_volum_ratio: 0.5\n", "min_volum_ratio"),  # a typo in a key
    ("raw:\n  sources:\n    email_events: {max_volum_ratio: 3}\n", "max_volum_ratio"),  # in a source's section
    ("identity:\n  max_records: 10\n", "max_records"),
])
def test_a_misspelt_threshold_is_an_error_naming_it(tmp_path, content, named):
    override = tmp_path / "t.yml"
    override.write_text(content)
    with pytest.raises(ValueError, match=named):
        load_quality_thresholds(override)
