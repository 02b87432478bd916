"""Thresholds of the quality gates: defaults in `thresholds.yml`, overridable per environment."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any, Optional

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt, create_model
from pydantic.fields import FieldInfo

from dagster_project.yaml_overrides import Share, StrictSettings, load_layered

DEFAULTS_FILE = Path(__file__).with_name("thresholds.yml")


class RawThresholds(StrictSettings):
    """Gates on each raw source partition (see `thresholds.yml` for what each means)."""

    trailing_partitions: PositiveInt
    min_trailing_partitions: NonNegativeInt
    min_trailing_median_rows: NonNegativeInt
    min_volume_ratio: Annotated[float, Field(ge=0)]
    min_volume_probability: Share
    max_volume_ratio: PositiveFloat
    max_quarantined_share: Share
    min_rows_for_shares: NonNegativeInt
    min_trailing_fill_rate: Share
    min_fill_ratio: Share
    future_slack_hours: NonNegativeInt
    oldest_plausible_timestamp: date
    max_partition_age_days: NonNegativeInt


def _optional(field: FieldInfo) -> Any:
    """A field's type and constraints, made optional."""
    return Optional[Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation]


# One source's section under `raw.sources`: any of the raw thresholds, each optional.
RawSourceThresholds = create_model(
    "RawSourceThresholds", __base__=StrictSettings,
    # mypy cannot type a model built at run time; pydantic validates it like any other.
    **{name: (_optional(field), None) for name, field in RawThresholds.model_fields.items()},  # type: ignore[call-overload]
)


class RawSection(RawThresholds):
    """The raw thresholds every source starts from, and each source's own."""

    sources: dict[str, RawSourceThresholds] = {}  # type: ignore[valid-type]


class IdentityThresholds(StrictSettings):
    """Gates on the customer-size distribution of identity resolution."""

    max_records_per_customer: PositiveInt
    large_customer_records: PositiveInt
    max_share_of_large_customers: Share


class MartThresholds(StrictSettings):
    """Gates on the marts: the customer 360 and the product catalog."""

    amount_tolerance: Annotated[float, Field(ge=0)]
    max_unreconciled_order_share: Share
    max_unknown_sku_share: Share


class FeatureThresholds(StrictSettings):
    """Drift warnings on the feature snapshot tables, against the previous validation."""

    max_relative_mean_shift: Annotated[float, Field(ge=0)]
    max_null_share_increase: Share


class QualityThresholds(StrictSettings):
    """Every threshold of the quality gates, for one environment."""

    raw: RawSection
    identity: IdentityThresholds
    marts: MartThresholds
    features: FeatureThresholds

    def for_source(self, source: str) -> RawThresholds:
        """The raw thresholds of one source: the environment's with that source's own laid over them."""
        own = self.raw.sources.get(source)
        overrides: dict[str, Any] = own.model_dump(exclude_none=True) if own is not None else {}
        return RawThresholds.model_validate({**self.raw.model_dump(exclude={"sources"}), **overrides})


def load_quality_thresholds(override_file: Path | None = None) -> QualityThresholds:
    """The defaults, with the keys an environment's override file sets replaced (see `load_layered`)."""
    return load_layered(QualityThresholds, DEFAULTS_FILE, override_file)
