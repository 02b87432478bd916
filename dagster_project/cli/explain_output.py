"""Plain-text rendering of `cxp explain`: score explanations and link explanations."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from dagster_project.identity.link_explanation import COMPARED_ATTRIBUTES, CustomerExplanation, Link, RecordPairExplanation

if TYPE_CHECKING:
    # For annotations only: ml.score_explanation imports Feast (4–5 s), which the link
    # explanations (`cxp explain customer`, `cxp explain records`) never need.
    from ml.score_explanation import ModelScore, ScoreExplanation


def render_scores(explanation: ScoreExplanation) -> str:
    lines = [f"Customer {explanation.customer_id}: scores as of {explanation.scored_at:%Y-%m-%d %H:%M} UTC"]
    if explanation.in_holdout:
        lines.append("In the personalization holdout (kept out to measure what personalization adds): not scored, "
                     "and no score, reason or personal recommendation is served.")
        return "\n".join(lines)
    if not explanation.personalization_allowed:
        lines.append("Opted out of personalization: not scored, and no score or reason is served.")
        return "\n".join(lines)
    for model in explanation.models:
        lines.extend(_model_lines(model))
    if explanation.probability_alive is not None:
        lines.append(f"\nProbability still active (MBG/NBD): {explanation.probability_alive:.0%}")
    action = explanation.next_best_action
    if action is not None:
        learned = f" (estimated by {action.model})" if action.model else ""
        lines.append(f"\nNext-best action: {action.action}: {action.reason}{learned}")
    return "\n".join(lines)


def _model_lines(model: ModelScore) -> list[str]:
    spec = model.spec
    if model.score is None:
        why = "never bought, or no model or baseline could score yet" if spec.name == "churn" else "no model or baseline could score yet"
        return [f"\n{spec.name}: no score: {why}"]
    shown = f"{model.score:.1%}" if spec.kind == "classifier" else f"${model.score:,.2f}"
    lines = [f"\n{spec.name}: {shown}  ({model.description.rstrip('.')}; scored by {model.scorer})"]
    if model.reasons and all(reason.contribution is None for reason in model.reasons):
        lines.append("  A baseline scored: its reasons are the inputs it reads, without contributions.")
    unit = "log-value" if spec.kind == "regressor" else "log-odds"
    for rank, reason in enumerate(model.reasons, start=1):
        pushed = "" if reason.contribution is None else f"  (+{reason.contribution:.3f} {unit})"
        lines.append(f"  {rank}. {reason.text}{pushed}")
    return lines


def render_customer(explanation: CustomerExplanation) -> str:
    lines = []
    if explanation.requested_id != explanation.customer_id:
        lines.append(f"{explanation.requested_id} was retired by a merge; its records now belong to {explanation.customer_id}.")
    records = explanation.records
    lines.append(f"Customer {explanation.customer_id}: {records.height} record(s)")
    for row in records.iter_rows(named=True):
        lines.append(f"  {row['record_id']}  {_summary(row)}")
    if explanation.links:
        lines.append(f"\nAccepted links ({len(explanation.links)}):")
        for link in explanation.links:
            lines.extend(_link_lines(link))
    elif records.height == 1:
        lines.append("\nA customer of one record: nothing links it to any other.")
    if not explanation.history.is_empty():
        lines.append("\nHistory of the id:")
        for row in explanation.history.iter_rows(named=True):
            lines.append(f"  {row['happened_at']:%Y-%m-%d %H:%M}  {_event(row, explanation.customer_id)}")
    return "\n".join(lines)


def render_record_pair(explanation: RecordPairExplanation) -> str:
    records = explanation.records
    left, right = records.row(0, named=True), records.row(1, named=True)
    lines = [f"{row['record_id']}  ->  {row['customer_id'] or 'no customer yet'}" for row in (left, right)]
    lines.append("")
    lines.extend(_side_by_side(left, right))
    lines.append("")
    if explanation.same_customer:
        hops = len(explanation.path)
        lines.append(f"Same customer, joined by {hops} accepted link(s):" if hops else "Same customer.")
        for number, link in enumerate(explanation.path, start=1):
            lines.extend(_link_lines(link, prefix=f"  {number}. "))
    else:
        lines.append("Different customers: no chain of accepted links joins them.")
    lines.append("\nThe pair itself:")
    for link in explanation.direct:
        lines.extend(_link_lines(link))
    for kind, identifier, reason in explanation.distrusted_identifiers:
        lines.append(f"  shares {kind} {identifier}, not trusted as proof of one person: {reason}")
    if not any(link.kind == "probabilistic" for link in explanation.direct):
        lines.append("  not scored by Splink: no blocking rule made them a candidate pair (nothing they share is close enough)")
    return "\n".join(lines)


def _link_lines(link: Link, prefix: str = "  ") -> Iterator[str]:
    yield f"{prefix}{link.record_id_l} — {link.record_id_r}: {link.describe()}"
    if link.kind != "probabilistic":
        return
    indent = " " * (len(prefix) + 4)
    # Splink's total is the prior plus each comparison's weight; a comparison with a value missing
    # on either side weighs exactly 0 and is left out.
    weights = {name: weight for name, weight in link.comparison_weights.items() if weight != 0}
    for comparison, weight in sorted(weights.items(), key=lambda item: -abs(item[1])):
        yield f"{indent}{comparison:<24} {weight:+7.2f}"
    yield f"{indent}{'(prior)':<24} {link.match_weight - sum(link.comparison_weights.values()):+7.2f}"


def _summary(row: dict) -> str:
    name = " ".join(part for part in (row.get("first_name"), row.get("last_name")) if part)
    parts = [name, row.get("email"), row.get("phone_e164"), row.get("postcode"), str(row["birthdate"]) if row.get("birthdate") else None]
    return " | ".join(part for part in parts if part) or "(no identifying values)"


def _side_by_side(left: dict, right: dict) -> Iterator[str]:
    for attribute in COMPARED_ATTRIBUTES:
        a, b = left.get(attribute), right.get(attribute)
        if a is None and b is None:
            continue
        marker = "=" if a == b else " "
        yield f"  {attribute:<13} {_text(a):<32} {marker} {_text(b)}"


def _text(value) -> str:
    return "—" if value is None else str(value)


def _event(row: dict, customer_id: str) -> str:
    kind, subject, related = row["event_type"], row["customer_id"], row["related_customer_id"]
    if kind == "created":
        return f"created with {row['record_count']} record(s)"
    if kind == "merged":
        return f"absorbed {subject} (retired)" if related == customer_id else f"merged into {related}"
    if kind == "split":
        return f"{row['record_count']} record(s) split off to {related}" if subject == customer_id else f"split off from {subject} with {row['record_count']} record(s)"
    return kind

