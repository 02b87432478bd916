"""Thresholds of the quality gates: defaults in `thresholds.yml`, overridable per environment."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from dagster_project.yaml_overrides import merge_overrides

DEFAULTS_FILE = Path(__file__).with_name("thresholds.yml")


@dataclass(frozen=True)
class RawThresholds:
    """Gates on each raw source partition (see `thresholds.yml` for what each means)."""

    trailing_partitions: int
    min_trailing_partitions: int
    min_trailing_median_rows: int
    min_volume_ratio: float
    min_volume_probability: float
    max_volume_ratio: float
    max_quarantined_share: float
    min_rows_for_shares: int
    min_trailing_fill_rate: float
    min_fill_ratio: float
    future_slack_hours: int
    oldest_plausible_timestamp: date
    max_partition_age_days: int


@dataclass(frozen=True)
class IdentityThresholds:
    """Gates on the customer-size distribution of identity resolution."""

    max_records_per_customer: int
    large_customer_records: int
    max_share_of_large_customers: float


@dataclass(frozen=True)
class MartThresholds:
    """Gates on the customer 360 marts."""

    amount_tolerance: float
    max_unreconciled_order_share: float


@dataclass(frozen=True)
class FeatureThresholds:
    """Drift warnings on the feature snapshot tables, against the previous validation."""

    max_relative_mean_shift: float
    max_null_share_increase: float


@dataclass(frozen=True)
class QualityThresholds:
    """Every threshold of the quality gates, for one environment."""

    raw: RawThresholds
    raw_by_source: dict[str, dict[str, Any]]
    identity: IdentityThresholds
    marts: MartThresholds
    features: FeatureThresholds

    def for_source(self, source: str) -> RawThresholds:
        """The raw thresholds of one source: the defaults with that source's overrides."""
        return replace(self.raw, **_typed(RawThresholds, self.raw_by_source.get(source, {})))


def load_quality_thresholds(override_file: Path | None = None) -> QualityThresholds:
    """The defaults, with the keys an environment's override file sets replaced."""
    config = _read(DEFAULTS_FILE)
    if override_file is not None:
        config = merge_overrides(config, _read(override_file))
    raw = dict(config["raw"])
    by_source = raw.pop("sources", None) or {}
    unknown = {f"raw.sources.{source}" for source, values in by_source.items() if not isinstance(values, dict)}
    if unknown:
        raise ValueError(f"Quality thresholds: {', '.join(sorted(unknown))} must be a mapping of thresholds")
    for values in by_source.values():
        _typed(RawThresholds, values)  # fail on a misspelt key now, not when that source is checked
    return QualityThresholds(
        raw=RawThresholds(**_typed(RawThresholds, raw)),
        raw_by_source=by_source,
        identity=IdentityThresholds(**_typed(IdentityThresholds, config["identity"])),
        marts=MartThresholds(**_typed(MartThresholds, config["marts"])),
        features=FeatureThresholds(**_typed(FeatureThresholds, config["features"])),
    )


def _read(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as file:
        content = yaml.safe_load(file) or {}
    if not isinstance(content, dict):
        raise ValueError(f"Quality thresholds file {path} must hold a mapping")
    return content


def _typed(cls: type, values: dict[str, Any]) -> dict[str, Any]:
    """Values cast to the dataclass's field types; an unknown key is an error naming it."""
    types = {field.name: field.type for field in fields(cls)}
    unknown = set(values) - set(types)
    if unknown:
        raise ValueError(f"Unknown quality threshold(s) for {cls.__name__}: {', '.join(sorted(unknown))}")
    cast = {"int": int, "float": float, "date": lambda v: v if isinstance(v, date) else date.fromisoformat(str(v))}
    return {key: cast[types[key]](value) for key, value in values.items()}
