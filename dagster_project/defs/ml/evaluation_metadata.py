"""What a training run shows in the Dagster UI: metrics side by side, and plots rendered inline."""

from __future__ import annotations

import dagster as dg
import polars as pl

from ml.evaluation_plots import calibration_png, feature_importance_png, lift_png, png_markdown, roc_curves_png
from ml.model_catalog import ModelSpec
from ml.model_training import EVALUATION_FILE, TrainingOutcome

_SCORERS = ("challenger", "champion", "baseline")


def metrics_table(outcome: TrainingOutcome) -> str:
    """Markdown table: one row per metric, one column per scorer."""
    scorers = [name for name in _SCORERS if name in outcome.metrics]
    names = [name for name, value in outcome.metrics["challenger"].items() if isinstance(value, float)]
    lines = ["| metric | " + " | ".join(scorers) + " |", "|---|" + "---:|" * len(scorers)]
    lines += [f"| {name} | " + " | ".join(f"{outcome.metrics[s][name]:.4f}" for s in scorers) + " |" for name in names]
    return "\n".join(lines)


def evaluation_plots(spec: ModelSpec, outcome: TrainingOutcome) -> dict[str, dg.MetadataValue]:
    """ROC (classifiers), calibration, lift/gains and feature importance as inline PNGs."""
    evaluation = pl.read_parquet(outcome.folder / EVALUATION_FILE)
    label = evaluation["label"].to_numpy()
    scores = {name: evaluation[name].to_numpy() for name in _SCORERS if name in evaluation.columns}
    title = f"{spec.name}, evaluation cutoff {outcome.cutoffs['evaluation'][0]}"
    plots = {"calibration_plot": png_markdown(calibration_png(label, scores, f"Calibration by decile: {title}"), "calibration"),
             "lift_plot": png_markdown(lift_png(label, scores, f"Cumulative gains: {title}"), "gains")}
    if spec.kind == "classifier":
        plots["roc_plot"] = png_markdown(roc_curves_png(label, scores, f"ROC: {title}"), "roc")
    names, shares = zip(*sorted(outcome.importance.items(), key=lambda item: -item[1])) if outcome.importance else ((), ())
    plots["feature_importance_plot"] = png_markdown(
        feature_importance_png(list(names), list(shares), f"{spec.name}: share of total gain"), "feature importance")
    return {name: dg.MetadataValue.md(markdown) for name, markdown in plots.items()}
