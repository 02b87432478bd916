"""One customer's nightly scores explained: each model's score, the reasons served with it and how
far each pushed the score, read from the same scores file the online store is materialized from,
so what `cxp explain` prints is what apps are served."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl

from ml.model_catalog import MODELS, ModelSpec
from ml.model_settings import LabelWindows
from ml.score_files import EMPTY_SCORES_FOLDER, REASONS_PER_MODEL, SCORES_TABLE


class ScoreExplanationError(Exception):
    """The customer has no scores to explain."""


@dataclass(frozen=True)
class Reason:
    text: str
    contribution: float | None
    """Push on the model's raw score (log-odds or log-value); None for a baseline's reasons."""


@dataclass(frozen=True)
class ModelScore:
    spec: ModelSpec
    score: float | None
    scorer: str | None
    """The registry version that scored, a baseline's name, or `none`."""
    reasons: list[Reason]
    horizon_days: int
    """The label window the score looks ahead over."""

    @property
    def description(self) -> str:
        return self.spec.describe(self.horizon_days)


@dataclass(frozen=True)
class ScoreExplanation:
    customer_id: str
    scored_at: datetime
    """The moment the scores describe: the end of the newest extract date."""
    personalization_allowed: bool
    models: list[ModelScore]
    probability_alive: float | None
    in_holdout: bool = False
    """In the measurement holdout (not opted out): served nothing personal, by design."""
    next_best_action: NextBestAction | None = None
    """The night's next-best action, when the night chose actions."""


@dataclass(frozen=True)
class NextBestAction:
    action: str
    reason: str
    model: str | None


def read_next_best_action(feature_files_dir: Path, customer_id: str) -> NextBestAction | None:
    """The customer's action of the newest night that chose actions, if any."""
    from ml.measurement.next_best_action import NEXT_BEST_ACTIONS_TABLE
    from ml.nightly_files import latest_scoring_date

    night = latest_scoring_date(feature_files_dir, NEXT_BEST_ACTIONS_TABLE)
    if night is None:
        return None
    rows = pl.read_parquet(feature_files_dir / NEXT_BEST_ACTIONS_TABLE / night.isoformat() / "data_0.parquet").filter(
        pl.col("customer_id") == customer_id)
    if rows.is_empty():
        return None
    row = rows.row(0, named=True)
    return NextBestAction(row["next_best_action"], row["next_best_action_reason"], row["next_best_action_model"])


def newest_scores_file(feature_files_dir: Path) -> Path:
    """The newest scoring date's Parquet file of the `customer_scores` view."""
    days = sorted(path for path in (feature_files_dir / SCORES_TABLE).glob("*/data_0.parquet")
                  if path.parent.name != EMPTY_SCORES_FOLDER)
    if not days:
        raise ScoreExplanationError(f"No scores in {feature_files_dir / SCORES_TABLE}: run `cxp run` first.")
    return days[-1]


def _value(row: dict, name: str) -> float | None:
    value = row[name]
    return None if value is None or math.isnan(value) else float(value)


def explain_scores(feature_files_dir: Path, customer_id: str, labels: LabelWindows) -> ScoreExplanation:
    """The newest scores of one customer, with every model's reasons and their contributions;
    `labels` are the configured windows the scores look ahead over."""
    path = newest_scores_file(feature_files_dir)
    rows = pl.read_parquet(path).filter(pl.col("customer_id") == customer_id)
    if rows.is_empty():
        raise ScoreExplanationError(
            f"{customer_id} was not scored on {path.parent.name}: not a current customer id (see `cxp explain customer`).")
    row = rows.row(0, named=True)
    models = []
    for name, spec in MODELS.items():
        reasons = [Reason(row[f"{name}_reason_{rank}"], _value(row, f"{name}_reason_{rank}_contribution"))
                   for rank in range(1, REASONS_PER_MODEL + 1) if row[f"{name}_reason_{rank}"] is not None]
        models.append(ModelScore(spec, _value(row, spec.score), row[f"{name}_model_version"], reasons, labels.horizon_days(name)))
    return ScoreExplanation(customer_id, row["event_timestamp"], bool(row["personalization_allowed"]), models,
                            _value(row, "probability_alive"), bool(row.get("in_holdout") or False),
                            read_next_best_action(feature_files_dir, customer_id))
