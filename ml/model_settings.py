"""Settings of the nightly models: defaults in `model_settings.yml`, overridable per environment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dagster_project.yaml_overrides import merge_overrides
from ml.value_level import VALUE_LEVELS

DEFAULTS_FILE = Path(__file__).with_name("model_settings.yml")
MODEL_NAMES = ("churn", "propensity", "clv")


@dataclass(frozen=True)
class LabelWindows:
    """How far ahead each label looks, in days, and who counts as an active customer for churn."""

    churn_active_days: int
    churn_horizon_days: int
    propensity_horizon_days: int
    clv_horizon_days: int

    def horizon_days(self, model: str) -> int:
        return {"churn": self.churn_horizon_days, "propensity": self.propensity_horizon_days,
                "clv": self.clv_horizon_days}[model]


@dataclass(frozen=True)
class TrainingSettings:
    max_cutoffs: int
    min_history_days: int
    max_rows_per_cutoff: int
    seed: int


@dataclass(frozen=True)
class PromotionRule:
    """The evaluation metric a challenger must improve, and by how much, to become champion."""

    metric: str
    min_improvement: float
    max_total_error: float | None = None
    """Value models: the challenger's predicted total must lie within this share of the actual total
    on the evaluation rows (|total_ratio - 1|), whatever its ranking."""


@dataclass(frozen=True)
class FairnessSettings:
    """Which inputs the models may not learn from, and how the bias audit judges a version."""

    protected_inputs: list[str]
    use_protected_inputs: bool
    segments: list[str]
    age_band_edges: list[int]
    min_segment_rows: int
    min_disparity_ratio: float
    max_disparity_ratio: float
    selection_share: float

    def allowed_inputs(self, names: list[str]) -> list[str]:
        """The inputs a model may learn from, in their order."""
        return list(names) if self.use_protected_inputs else [name for name in names if name not in self.protected_inputs]


@dataclass(frozen=True)
class ModelSettings:
    labels: LabelWindows
    training: TrainingSettings
    promotion: dict[str, PromotionRule]
    xgboost: dict[str, float | int]
    keep_score_days: int
    fairness: FairnessSettings
    reason_max_modal_share: float = 0.98
    reason_min_contribution: float = 0.01
    value_level: str = "forecast"
    """What sets the total of predicted value: `forecast` or `holdout` (see ml.value_level)."""


def load_model_settings(override_file: Path | None = None) -> ModelSettings:
    """The defaults, with the keys of `override_file` (if any) replacing theirs."""
    document: dict[str, Any] = yaml.safe_load(DEFAULTS_FILE.read_text())
    if override_file is not None:
        override = yaml.safe_load(override_file.read_text()) or {}
        unknown = set(override) - set(document)
        if unknown:
            raise ValueError(f"{override_file}: unknown model setting section(s) {', '.join(sorted(unknown))}")
        document = merge_overrides(document, override)
    labels = document["labels"]
    promotion = {name: PromotionRule(**document["promotion"][name]) for name in MODEL_NAMES}
    for name, rule in promotion.items():
        if rule.metric not in ("roc_auc", "pr_auc", "spearman"):
            raise ValueError(f"promotion.{name}.metric must be roc_auc, pr_auc or spearman, not {rule.metric!r}")
    return ModelSettings(
        labels=LabelWindows(
            churn_active_days=int(labels["churn"]["active_days"]),
            churn_horizon_days=int(labels["churn"]["horizon_days"]),
            propensity_horizon_days=int(labels["propensity"]["horizon_days"]),
            clv_horizon_days=int(labels["clv"]["horizon_days"]),
        ),
        training=TrainingSettings(**{key: int(value) for key, value in document["training"].items()}),
        promotion=promotion,
        xgboost=dict(document["xgboost"]),
        keep_score_days=int(document["scoring"]["keep_days"]),
        fairness=_fairness(document["fairness"]),
        reason_max_modal_share=float(document["scoring"]["reason_max_modal_share"]),
        reason_min_contribution=float(document["scoring"]["reason_min_contribution"]),
        value_level=_value_level(document["scoring"]["value_level"]),
    )


def _value_level(setting: str) -> str:
    if setting not in VALUE_LEVELS:
        raise ValueError(f"scoring.value_level must be one of {', '.join(VALUE_LEVELS)}, not {setting!r}")
    return setting


def _fairness(section: dict[str, Any]) -> FairnessSettings:
    fairness = FairnessSettings(
        protected_inputs=[str(name) for name in section["protected_inputs"]], use_protected_inputs=bool(section["use_protected_inputs"]),
        segments=[str(name) for name in section["segments"]], age_band_edges=sorted(int(edge) for edge in section["age_band_edges"]),
        min_segment_rows=int(section["min_segment_rows"]), min_disparity_ratio=float(section["min_disparity_ratio"]),
        max_disparity_ratio=float(section["max_disparity_ratio"]), selection_share=float(section["selection_share"]),
    )
    unknown = set(fairness.segments) - {"country", "age_band", "acquisition_source"}
    if unknown:
        raise ValueError(f"fairness.segments: unknown segment(s) {', '.join(sorted(unknown))}; use country, age_band, acquisition_source")
    if not 0 < fairness.min_disparity_ratio <= 1 <= fairness.max_disparity_ratio:
        raise ValueError("fairness: min_disparity_ratio must lie in (0, 1] and max_disparity_ratio be at least 1")
    if not 0 < fairness.selection_share < 1:
        raise ValueError("fairness.selection_share must lie strictly between 0 and 1")
    return fairness
