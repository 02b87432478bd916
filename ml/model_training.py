"""One nightly training run of one model: labels, a Feast training set over monthly cutoffs, the
xgboost challenger, its baseline and the champion, all scored on the same evaluation rows.

Out of time: the newest labeled cutoff is the evaluation set. Training cutoffs are those whose label
window closed by then (cutoff + horizon ≤ evaluation cutoff), so nothing the evaluation labels
describe was known to the training labels; the newest of them is the holdout for early stopping
and calibration (see ml.labels.plan_cutoffs). Training and holdout windows, a month apart, may
share calendar days: early stopping and calibration can be a little optimistic, the evaluation not.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
from feast import FeatureStore

from ml.bias_audit import UNKNOWN, audit_bias, audit_report, read_segments
from ml.btyd_baseline import fit_btyd_baseline
from ml.feature_matrix import fit_feature_matrix
from ml.gradient_boosting import GradientBoostingModel, train_gradient_boosting
from ml.labels import CutoffPlan, history_needed_days, plan_cutoffs, read_data_span, read_labels
from ml.model_catalog import ModelSpec
from ml.model_evaluation import calibration_by_decile, classifier_metrics, regression_metrics
from ml.model_registry import ModelRegistry
from ml.model_settings import ModelSettings
from ml.rfm_baseline import fit_rfm_baseline
from ml.training_sets import frame_digest, retrieve_training_set, service_feature_names
from ml.value_level import value_level

EVALUATION_FILE = "evaluation.parquet"
BIAS_AUDIT_FILE = "bias_audit.json"


@dataclass
class TrainingOutcome:
    """What a training run did; `version` is None when the history cannot label enough cutoffs yet."""

    model: str
    version: str | None
    skipped_reason: str | None = None
    cutoffs: dict[str, list[str]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    importance: dict[str, float] = field(default_factory=dict)
    folder: Path | None = None
    bias_audit: dict | None = None
    """The version's bias audit (ml.bias_audit.audit_report), as saved in `bias_audit.json`."""


def champion_not_comparable(champion: dict, evaluation_cutoff: date) -> str | None:
    """Why the champion's score on this evaluation set would not be fair, if it would not: its own
    training labels reach past the evaluation cutoff (the history was rebuilt shorter, or the label
    window grew), so it has seen what the evaluation rows are asked to predict."""
    cutoffs = [date.fromisoformat(c) for c in [*champion["cutoffs"]["train"], *champion["cutoffs"]["holdout"]]]
    reach = max(cutoffs) + timedelta(days=int(champion["label_horizon_days"]))
    if reach > evaluation_cutoff:
        return f"the champion's training labels reach {reach}, past this evaluation cutoff {evaluation_cutoff}"
    return None


def _metrics(kind: str, labels: np.ndarray, prediction: np.ndarray) -> dict[str, float]:
    return classifier_metrics(labels, prediction) if kind == "classifier" else regression_metrics(labels, prediction)


def train_model(spec: ModelSpec, connection: duckdb.DuckDBPyConnection, store: FeatureStore, settings: ModelSettings,
                registry: ModelRegistry, trained_at: datetime) -> TrainingOutcome:
    """Train a challenger, score it, its baseline and the champion on the evaluation cutoff, and
    register the version (ml.model_promotion decides whether it becomes champion)."""
    try:
        span = read_data_span(connection)
    except ValueError as error:
        return TrainingOutcome(spec.name, None, skipped_reason=str(error))
    plan = plan_cutoffs(spec.name, span, settings.labels, settings.training)
    if plan is None:
        needed = history_needed_days(spec.name, settings.labels, settings.training)
        have = (span.last_date - span.first_date).days + 1
        return TrainingOutcome(spec.name, None, skipped_reason=(
            f"{have} days of features ({span.first_date} … {span.last_date}); {spec.name} needs about {needed}: two closed "
            f"{settings.labels.horizon_days(spec.name)}-day label windows (evaluation, and training before it) on top of "
            f"{settings.training.min_history_days} days of history; until then its baseline scores"))
    labels = read_labels(connection, spec.name, plan.all, settings.labels,
                         settings.training.max_rows_per_cutoff, settings.training.seed)
    segments = read_segments(connection, plan.evaluation, settings.fairness)
    registry.remove_incomplete_versions(spec.name)
    version, folder = registry.new_version_dir(spec.name, trained_at, frame_digest(labels))
    try:
        return _train_version(spec, store, settings, registry, trained_at, labels, version, folder, plan, segments)
    except BaseException:
        # A half-written version would hold a training set (personal features) that nothing lists.
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _train_version(spec: ModelSpec, store: FeatureStore, settings: ModelSettings, registry: ModelRegistry,
                   trained_at: datetime, labels: pl.DataFrame, version: str, folder: Path, plan: CutoffPlan,
                   segments: pl.DataFrame) -> TrainingOutcome:
    horizon = settings.labels.horizon_days(spec.name)
    train_cutoffs, holdout_cutoff, evaluation_cutoff = plan.train, plan.holdout, plan.evaluation
    training_set = retrieve_training_set(store, labels, spec.feature_service, folder / "training_set.parquet",
                                         name=f"{spec.name}_{version}")
    train = training_set.filter(pl.col("cutoff_date").is_in(train_cutoffs))
    holdout = training_set.filter(pl.col("cutoff_date") == holdout_cutoff)
    evaluation = training_set.filter(pl.col("cutoff_date") == evaluation_cutoff)
    served = service_feature_names(store, spec.feature_service)
    features = settings.fairness.allowed_inputs(served)
    inputs = fit_feature_matrix(train, features)
    model = train_gradient_boosting(spec.kind, train, holdout, inputs, settings.xgboost, settings.training.seed)
    model.save(folder)

    label = evaluation["label"].to_numpy()
    predictions: dict[str, np.ndarray] = {}
    level = None
    if spec.kind == "classifier":
        baseline = fit_rfm_baseline(pl.concat([train, holdout]))
        predictions["baseline"] = baseline.predict(evaluation)
        (folder / "baseline.json").write_text(json.dumps(baseline.to_dict(), indent=1))
    else:
        try:
            btyd = fit_btyd_baseline(evaluation)
            predictions["baseline"] = btyd.expected_value(evaluation, horizon)
            (folder / "baseline.json").write_text(json.dumps(btyd.to_dict(), indent=1))
        except ValueError as error:
            # No repeat buyers, or a degenerate fit: the challenger is judged against the champion alone.
            (folder / "baseline.json").write_text(json.dumps({"unavailable": str(error)}, indent=1))
            level = value_level(settings.scoring.value_level, None, f"no BG/NBD + Gamma-Gamma fit: {error}")
        # Evaluated as it will score: its total set the way scoring sets it on the day's customers.
        level = level or value_level(settings.scoring.value_level, predictions["baseline"])
    total = level.total if level else None
    predictions = {"challenger": model.predict(evaluation, total), **predictions}
    champion_version = registry.champion(spec.name)
    champion_note = None
    if champion_version is not None:
        champion_note = champion_not_comparable(registry.read_version(spec.name, champion_version), evaluation_cutoff)
        if champion_note is None:
            try:
                champion = GradientBoostingModel.load(registry.version_dir(spec.name, champion_version))
                predictions["champion"] = champion.predict(evaluation, total)
            except KeyError as error:
                champion_note = f"the champion cannot score these rows: {error}"
    metrics = {name: _metrics(spec.kind, label, prediction) for name, prediction in predictions.items()}
    calibration = {name: [cell.__dict__ for cell in calibration_by_decile(label, prediction)] for name, prediction in predictions.items()}
    pl.DataFrame({"customer_id": evaluation["customer_id"], "cutoff_date": evaluation["cutoff_date"], "label": label,
                  **{name: prediction for name, prediction in predictions.items()}}).write_parquet(folder / EVALUATION_FILE)
    audited = evaluation.select("customer_id").with_columns(pl.Series("label", label)).join(
        segments, on="customer_id", how="left", maintain_order="left").fill_null(UNKNOWN)
    bias = audit_report(audit_bias(spec.kind, audited, predictions["challenger"], settings.fairness), settings.fairness)
    (folder / BIAS_AUDIT_FILE).write_text(json.dumps(bias, indent=1))
    outcome = TrainingOutcome(
        model=spec.name, version=version, folder=folder, bias_audit=bias,
        cutoffs={"train": [str(c) for c in train_cutoffs], "holdout": [str(holdout_cutoff)], "evaluation": [str(evaluation_cutoff)]},
        rows={"train": train.height, "holdout": holdout.height, "evaluation": evaluation.height},
        metrics=metrics, importance=model.importance(),
    )
    record = {
        "model": spec.name, "version": version, "kind": spec.kind, "trained_at": trained_at.isoformat(),
        "feature_service": spec.feature_service, "features": inputs.columns, "label_horizon_days": horizon,
        "inputs_withheld": sorted(set(served) - set(features)), "bias_flags": bias["flagged"],
        "cutoffs": outcome.cutoffs, "rows": outcome.rows, "metrics": metrics, "calibration_by_decile": calibration,
        "baseline": spec.baseline, "value_level": level.describe() if level else None,
        "champion_at_training": champion_version, "champion_not_comparable": champion_note, "importance": outcome.importance,
        "hyperparameters": settings.xgboost, "trees": model.booster.num_boosted_rounds(),
        "data_hashes": {"labels": frame_digest(labels), "training_set": frame_digest(training_set)},
    }
    registry.write_version(spec.name, version, record)
    return outcome
