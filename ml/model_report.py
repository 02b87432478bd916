"""The newest version of each model against the champion it met, its baseline and, on generated
data, the oracle: the table `cxp eval models` prints."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ml.model_catalog import MODELS
from ml.model_evaluation import classifier_metrics, regression_metrics
from ml.model_registry import ModelRegistry
from ml.model_training import EVALUATION_FILE
from ml.oracle import oracle_predictions

SCORERS = ("champion", "challenger", "baseline", "oracle")
_SHOWN = {"classifier": ("roc_auc", "pr_auc", "brier", "lift_top_10pct"),
          "regressor": ("spearman", "total_ratio", "mae", "rmse", "top_20pct_value_share")}


@dataclass(frozen=True)
class ModelReport:
    model: str
    version: str | None
    champion: str | None
    decision: str | None
    metrics: dict[str, dict[str, float]]
    rows: int
    note: str
    horizon_days: int
    """The label window: the newest version's, or the configured one when none is trained."""


def build_model_report(registry: ModelRegistry, model: str, horizon_days: int, persons: pl.DataFrame | None = None,
                       people: pl.DataFrame | None = None) -> ModelReport:
    """Metrics of the newest version's evaluation rows, with the oracle's when the truth is given
    (every scorer is then measured on the rows whose customer maps to a generated person)."""
    spec = MODELS[model]
    versions = registry.versions(model)
    if not versions:
        return ModelReport(model, None, registry.champion(model), None, {}, 0, "no version trained yet", horizon_days)
    version = versions[-1]
    # The window this version was trained and evaluated on, which the settings may since have changed.
    horizon_days = registry.read_version(model, version)["label_horizon_days"]
    evaluation = pl.read_parquet(registry.version_dir(model, version) / EVALUATION_FILE)
    note = f"evaluation cutoff {evaluation['cutoff_date'].dt.max()}, {evaluation.height:,} rows"  # .dt.max: typed a date, not any literal
    if persons is not None and people is not None:
        oracle = oracle_predictions(model, evaluation, persons, people, horizon_days)
        evaluation = evaluation.join(oracle, on=["customer_id", "cutoff_date"], how="inner")
        note += f"; {evaluation.height:,} with a known person (oracle)"
    score = classifier_metrics if spec.kind == "classifier" else regression_metrics
    label = evaluation["label"].to_numpy()
    metrics = {name: score(label, evaluation[name].to_numpy()) for name in SCORERS if name in evaluation.columns}
    decisions = [entry for entry in registry.decisions(model) if entry["version"] == version]
    decision = (("promoted: " if decisions[-1]["promoted"] else "not promoted: ") + decisions[-1]["reason"]) if decisions else None
    return ModelReport(model, version, registry.champion(model), decision, metrics, evaluation.height, note, horizon_days)


def render_model_report(report: ModelReport) -> str:
    spec = MODELS[report.model]
    lines = [f"{report.model}: {spec.describe(report.horizon_days)}"]
    if report.version is None:
        return "\n".join([*lines, f"  {report.note}; scores come from the baseline ({spec.baseline})", ""])
    lines.append(f"  newest version {report.version} ({report.note}); champion now: {report.champion or 'none'}")
    if report.decision:
        lines.append(f"  {report.decision}")
    lines.append("  " + f"{'metric':<24}" + "".join(f"{name:>12}" for name in SCORERS))
    for metric in _SHOWN[spec.kind]:
        lines.append("  " + f"{metric:<24}" + "".join(
            f"{report.metrics[name][metric]:>12.4f}" if name in report.metrics else f"{'—':>12}" for name in SCORERS))
    headline = _SHOWN[spec.kind][0]
    if "oracle" in report.metrics:
        challenger, oracle = report.metrics["challenger"][headline], report.metrics["oracle"][headline]
        chance = 0.5 if headline == "roc_auc" else 0.0
        lines.append(f"  challenger {headline} is {challenger / oracle:.1%} of the oracle's "
                     f"({(challenger - chance) / (oracle - chance):.1%} of its lift over chance)")
    if "champion" not in report.metrics:
        if report.champion == report.version:
            lines.append("  (— : this version met no champion when it was evaluated; promoted, it is the champion now)")
        else:
            lines.append(f"  (— : no champion existed when this version was evaluated; champion now: {report.champion or 'none'})")
    return "\n".join([*lines, ""])
