"""The night's next-best actions in words: for `cxp eval uplift`, and against the truth on generated data."""

from __future__ import annotations

from typing import Any

from ml.measurement.action_truth import ActionTruth


def _usd(value: float) -> str:
    return f"{'-' if value < 0 else ''}${abs(value):,.0f}"


def render_actions_report(report: dict[str, Any]) -> str:
    """What the night chose (per action: customers, expected value, spend) and what each learned action rests on."""
    lines = [f"Next-best actions of {report['customers']:,} customers, as of {report['as_of']}", "",
             f"{'action':<22} {'customers':>10} {'expected value':>15} {'spend':>12}"]
    for row in report["summary"]:
        lines.append(f"{row['action']:<22} {row['customers']:>10,} {'$' + format(row['expected_incremental_value'], ',.2f'):>15} "
                     f"{'$' + format(row['spend_usd'], ',.2f'):>12}")
    for action, learned in report["learned"].items():
        customers = ", ".join(f"{arm} {n:,}" for arm, n in learned["customers"].items())
        qini = ", ".join(f"{name} ${value:,.0f}" for name, value in learned["cross_fitted_qini_usd"].items())
        lines += ["", f"{action}: learned from {learned['experiment_id']} ({learned['arm']} vs {learned['control']}; {customers}; "
                      f"{learned['horizon_days']}-day revenue), {learned['learner']} chosen; cross-fitted Qini {qini}"]
        policy = learned["held_out_policies"]
        verdict = ("so the night targets by the model" if learned["targets"] else
                   "so the night uses the average effect: " + ("the action for everyone eligible"
                                                               if policy["average_effect_usd"] > policy["cost_usd"] else "no action"))
        lines.append(f"  on held-out customers, net of the ${policy['cost_usd']:,.2f} cost: the {policy['targeted']:,} the model "
                     f"targets ${policy['targeted_value_usd']:,.0f}, everyone ${policy['everyone_value_usd']:,.0f} "
                     f"(average effect ${policy['average_effect_usd']:,.2f}); targeting's gain over the better blanket "
                     f"policy is at least {_usd(policy['gain_lower_bound_usd'])} with {policy['confidence']:.0%} confidence, {verdict}")
    for action, why in report["not_learned"].items():
        lines += ["", f"{action}: not learned, so never chosen: {why}"]
    return "\n".join(lines) + "\n"


def render_action_truth(truth: ActionTruth, learner: str) -> str:
    """Qini against the oracle's, and each policy's true incremental value net of cost."""
    lines = [f"Against the planted effects (generated data), {truth.action}, {truth.customers:,} experiment customers, "
             "each scored by a model that never saw them:"]
    for name, qini in truth.qini.items():
        ratio = f"{qini.ratio:.2f}x the oracle's" if qini.ratio is not None else "no oracle ranking"
        chosen = " (chosen)" if name == learner else ""
        lines.append(f"  Qini {name}{chosen}: ${qini.model:,.0f} vs oracle ${qini.oracle:,.0f} = {ratio}")
    oracle = next(iter(truth.qini.values())).oracle if truth.qini else 0.0
    if truth.profile_oracle_qini is not None and oracle > 0:
        lines.append(f"  Qini of the ranking by each person's profile (true rate and lifetime; who responds is chance): "
                     f"${truth.profile_oracle_qini:,.0f} = {truth.profile_oracle_qini / oracle:.2f}x the oracle's")
    single, single_value = truth.best_single
    lines += ["", f"  {'policy':<46} {'targeted':>9} {'true value (expected)':>22} {'true value (realized)':>22}"]
    for label, value in (("next-best action (as served)", truth.next_best_action), (f"{learner} targeting", truth.model_targeting),
                         (f"best single action ({'the action for everyone' if single == 'everyone' else 'no action'})", single_value),
                         ("the action for everyone", truth.everyone), ("oracle (true effects)", truth.oracle)):
        lines.append(f"  {label:<46} {value.targeted:>9,} {'$' + format(value.expected, ',.0f'):>22} {'$' + format(value.realized, ',.0f'):>22}")
    return "\n".join(lines) + "\n"
