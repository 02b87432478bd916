"""Champion or not: a registered challenger against the champion, on the rows both were scored on."""

from __future__ import annotations

import json
from dataclasses import replace

from ml.model_card import write_model_card
from ml.model_catalog import ModelSpec
from ml.model_registry import Decision, ModelRegistry, decide_promotion
from ml.model_settings import PromotionRule
from ml.model_training import BIAS_AUDIT_FILE


def promote_if_better(spec: ModelSpec, registry: ModelRegistry, version: str, rule: PromotionRule) -> Decision:
    """Decide by the version's own evaluation (challenger, champion and baseline were scored on the
    same out-of-time rows when it was trained), record the decision, and write the model card."""
    record = registry.read_version(spec.name, version)
    metrics = record["metrics"]
    if record["champion_at_training"] != registry.champion(spec.name):
        # Another run changed the champion meanwhile: this version was not compared with it.
        decision = Decision(False, f"the champion changed to {registry.champion(spec.name)} after {version} was evaluated "
                                   f"against {record['champion_at_training']}; the next run compares them", rule.metric,
                            metrics["challenger"][rule.metric], None, metrics.get("baseline", {}).get(rule.metric))
    else:
        decision = decide_promotion(rule.metric, rule.min_improvement, metrics["challenger"][rule.metric],
                                    metrics.get("champion", {}).get(rule.metric), metrics.get("baseline", {}).get(rule.metric),
                                    metrics["challenger"].get("total_ratio"), rule.max_total_error)
        if record.get("champion_not_comparable"):
            decision = replace(decision, reason=f"{decision.reason} (champion {record['champion_at_training']} not compared: "
                                                f"{record['champion_not_comparable']})")
    registry.record_decision(spec.name, version, decision)
    audit_path = registry.version_dir(spec.name, version) / BIAS_AUDIT_FILE
    audit = json.loads(audit_path.read_text()) if audit_path.exists() else None
    registry.write_card(spec.name, version, write_model_card(spec, {**record, "decision": decision.__dict__}, record["importance"], audit))
    return decision
