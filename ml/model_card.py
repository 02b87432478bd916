"""The short model card kept with every registered version."""

from __future__ import annotations

from ml.bias_audit import audit_markdown
from ml.model_catalog import ModelSpec


def write_model_card(spec: ModelSpec, record: dict, importance: dict[str, float], bias_audit: dict | None = None) -> str:
    """Markdown: what the model predicts, from what, trained when and on which window, how it
    scored against its baseline and the champion, and what it may not be used for."""
    metrics = record["metrics"]
    names = sorted({key for values in metrics.values() for key, value in values.items() if isinstance(value, float)})
    header = "| metric | " + " | ".join(metrics) + " |\n|---|" + "---|" * len(metrics) + "\n"
    rows = "".join(f"| {name} | " + " | ".join(f"{metrics[m].get(name, float('nan')):.4f}" for m in metrics) + " |\n" for name in names)
    deciles = record.get("calibration_by_decile", {}).get("challenger", [])
    calibration = "| decile | rows | mean predicted | mean observed |\n|---|---|---|---|\n" + "".join(
        f"| {b['decile']} | {b['count']:,} | {b['mean_predicted']:.4f} | {b['mean_observed']:.4f} |\n" for b in deciles)
    top = "".join(f"- {name}: {share:.1%}\n" for name, share in sorted(importance.items(), key=lambda item: -item[1])[:10])
    decision = record["decision"]
    level = f"- Predicted value: {record['value_level']}; evaluated the same way.\n" if record.get("value_level") else ""
    return f"""# {spec.name} model, version {record['version']}

{spec.describe(record['label_horizon_days'])} xgboost ({spec.kind}{', isotonic-calibrated' if spec.kind == 'classifier' else ', Tweedie loss'}),
trained {record['trained_at']} on the Feast feature service `{spec.feature_service}`.

- Training cutoffs: {', '.join(record['cutoffs']['train'])}; holdout (early stopping{', calibration' if spec.kind == 'classifier' else ''}):
  {record['cutoffs']['holdout'][0]}; out-of-time evaluation: {record['cutoffs']['evaluation'][0]}.
- Rows: {record['rows']['train']:,} training, {record['rows']['holdout']:,} holdout, {record['rows']['evaluation']:,} evaluation.
- Label window: {record['label_horizon_days']} days after each cutoff. Inputs: {len(record['features'])} features.
- Baseline: {spec.baseline}. Champion at training time: {record['champion_at_training'] or 'none'}.
{level}- Decision: {'promoted' if decision['promoted'] else 'not promoted'} — {decision['reason']}.
- Data hashes: labels {record['data_hashes']['labels'][:16]}, training set {record['data_hashes']['training_set'][:16]}.

## Evaluation (out of time)

{header}{rows}
Calibration of the challenger by decile of its prediction:

{calibration}
## Most important inputs (share of total gain)

{top}
## Bias audit (evaluation rows, by segment)

{audit_markdown(bias_audit) if bias_audit else 'No audit was recorded for this version.'}

## Use and limits

Scores rank and size customers for personalization and retention outreach. The model has not seen
names, contact details, birthdates or countries. It is not for credit, pricing or any decision with
legal effect on a person.
"""
