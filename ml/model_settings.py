"""Settings of the nightly models: defaults in `model_settings.yml`, overridable per environment.

The models mirror the file's sections, so a key's place in the YAML is its path in code
(`labels.churn.horizon_days` is `settings.labels.churn.horizon_days`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, NonNegativeInt, PositiveInt, field_validator, model_validator

from dagster_project.yaml_overrides import Share, StrictSettings, load_layered

DEFAULTS_FILE = Path(__file__).with_name("model_settings.yml")
MODEL_NAMES = ("churn", "propensity", "clv")
ModelName = Literal["churn", "propensity", "clv"]


class ChurnLabel(StrictSettings):
    active_days: PositiveInt
    """Who can churn: customers with a purchase in this many days before the cutoff."""
    horizon_days: PositiveInt
    """Churned: no purchase in this many days after the cutoff."""


class HorizonLabel(StrictSettings):
    horizon_days: PositiveInt
    """How far after the cutoff the label looks."""


class LabelWindows(StrictSettings):
    """How far ahead each label looks, in days, and who counts as an active customer for churn."""

    churn: ChurnLabel
    propensity: HorizonLabel
    clv: HorizonLabel

    def horizon_days(self, model: str) -> int:
        labels: dict[str, ChurnLabel | HorizonLabel] = {"churn": self.churn, "propensity": self.propensity, "clv": self.clv}
        return labels[model].horizon_days


class TrainingSettings(StrictSettings):
    max_cutoffs: PositiveInt
    min_history_days: NonNegativeInt
    max_rows_per_cutoff: NonNegativeInt
    seed: int


class PromotionRule(StrictSettings):
    """The evaluation metric a challenger must improve, and by how much, to become champion."""

    metric: Literal["roc_auc", "pr_auc", "spearman"]
    min_improvement: float
    max_total_error: Annotated[float, Field(ge=0)] | None = None
    """Value models: the challenger's predicted total must lie within this share of the actual total
    on the evaluation rows (|total_ratio - 1|), whatever its ranking."""


class ScoringSettings(StrictSettings):
    keep_days: PositiveInt
    """Scoring dates kept as Parquet (the offline history of scores)."""
    reason_max_modal_share: Share
    reason_min_contribution: Annotated[float, Field(ge=0)]
    value_level: Literal["forecast", "holdout"]
    """What sets the total of predicted value (see ml.value_level)."""


class FairnessSettings(StrictSettings):
    """Which inputs the models may not learn from, and how the bias audit judges a version."""

    protected_inputs: list[str]
    use_protected_inputs: bool
    segments: list[Literal["country", "age_band", "acquisition_source"]]
    age_band_edges: list[int]
    min_segment_rows: NonNegativeInt
    min_disparity_ratio: Annotated[float, Field(gt=0, le=1)]
    max_disparity_ratio: Annotated[float, Field(ge=1)]
    selection_share: Annotated[float, Field(gt=0, lt=1)]

    @field_validator("age_band_edges")
    @classmethod
    def _ascending(cls, edges: list[int]) -> list[int]:
        return sorted(edges)

    def allowed_inputs(self, names: list[str]) -> list[str]:
        """The inputs a model may learn from, in their order."""
        return list(names) if self.use_protected_inputs else [name for name in names if name not in self.protected_inputs]


class ModelSettings(StrictSettings):
    """Label windows, training, promotion and scoring settings of one environment."""

    labels: LabelWindows
    training: TrainingSettings
    promotion: dict[ModelName, PromotionRule]
    xgboost: dict[str, float | int]
    """Passed to xgboost as they are (any of its parameters), `early_stopping_rounds` included."""
    scoring: ScoringSettings
    fairness: FairnessSettings

    @model_validator(mode="after")
    def _a_rule_per_model(self) -> ModelSettings:
        missing = set(MODEL_NAMES) - set(self.promotion)
        if missing:
            raise ValueError(f"promotion needs a rule for {', '.join(sorted(missing))}")
        return self


def load_model_settings(override_file: Path | None = None) -> ModelSettings:
    """The defaults, with the keys of `override_file` (if any) replacing theirs (see `load_layered`)."""
    return load_layered(ModelSettings, DEFAULTS_FILE, override_file)
