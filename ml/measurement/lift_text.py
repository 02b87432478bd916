"""An experiment's lift report in words and tables: for `cxp eval lift` and the Dagster asset's metadata."""

from __future__ import annotations

import polars as pl

from ml.measurement.experiment_reports import ExperimentReport
from ml.measurement.lift import Lift
from ml.measurement.lift_report import METRICS, MetricLift, interval_covers

# Metrics in USD; the others are shares, shown in percent and their differences in points.
MONEY_METRICS = {"revenue_per_customer", "average_order_value", "clv_realized", "clv_predicted"}


def render_lift_report(report: ExperimentReport) -> str:
    """Plain text: what was measured, what was left out and why, and one row per arm and metric."""
    title = f"Experiment {report.experiment_id}" + (f" ({report.name})" if report.name else "")
    lines = [title, "=" * len(title)]
    log = report.log
    if log:
        lines.append(f"log: {log['logged_rows']:,} rows, {log['customers']:,} customers matched, "
                     f"{log['repeated_exposure_rows']:,} repeated exposures (the first stands)")
    if report.lift is None:
        lines.append(f"not measured: {report.skipped}")
        return "\n".join(lines) + "\n"
    lift = report.lift
    source = "configured" if report.configured else "from the assignment log (settings `logged_experiments`)"
    lines.append(f"control {lift.control}; horizon {lift.horizon_days} days after each customer's first exposure, "
                 f"data to {lift.as_of:%Y-%m-%d %H:%M} UTC; {source}")
    lines.append("customers: " + ", ".join(f"{arm} {count:,}" for arm, count in lift.customers_per_arm.items()))
    left_out = {reason: count for reason, count in lift.left_out.items() if count}
    lines.append("left out: " + ("; ".join(f"{count:,} {reason}" for reason, count in left_out.items()) if left_out else "nothing"))
    lines.append(("SAMPLE RATIO MISMATCH: " if lift.sample_ratio.mismatch else "sample ratio: ") + lift.sample_ratio.message)
    aa = lift.aa
    lines.append(f"A/A (control split in two by hash, on {lift.primary_metric}): difference {_value(lift.primary_metric, aa.difference)}, "
                 f"p = {_p(aa.p_value)}" + (" - FLAGGED: check the pipeline before trusting the lift" if lift.aa_flagged else ""))
    lines.extend(f"note: {note}" for note in lift.notes)
    lines.append("")
    header = f"{'arm':<14} {'metric':<21} {'control':>10} {'arm':>10} {'difference [95% CI]':>32} {'p':>8} {'rel.':>7}   {'CUPED difference [95% CI]':>32} {'narrower':>8}"
    lines.append(header)
    lines.append("-" * len(header))
    for item in lift.metrics:
        lines.append(_row(item, primary=item.metric == lift.primary_metric))
    lines.append("")
    lines.extend(f"  {name}: {description}" for name, description in METRICS.items())
    return "\n".join(lines) + "\n"


def _row(item: MetricLift, primary: bool) -> str:
    lift = item.lift
    metric = item.metric + (" *" if primary else "")
    interval = _interval(item.metric, lift)
    relative = f"{lift.relative_lift:+.1%}" if lift.relative_lift is not None else "-"
    cuped = _interval(item.metric, item.cuped) if item.cuped is not None else "-"
    narrower = f"{item.ci_narrowing:.0%}" if item.ci_narrowing is not None else "-"
    row = (f"{item.arm:<14} {metric:<21} {_value(item.metric, lift.control_mean):>10} {_value(item.metric, lift.treatment_mean):>10} "
           f"{interval:>32} {_p(lift.p_value):>8} {relative:>7}   {cuped:>32} {narrower:>8}")
    return row + (f"  ({lift.note})" if lift.note else "")


def _interval(metric: str, lift: Lift) -> str:
    if lift.difference is None:
        return "-"
    if lift.ci_low is None or lift.ci_high is None:
        return _value(metric, lift.difference, signed=True)
    return (f"{_value(metric, lift.difference, signed=True)} [{_value(metric, lift.ci_low, signed=True)}, "
            f"{_value(metric, lift.ci_high, signed=True)}]")


def _value(metric: str, value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    if metric in MONEY_METRICS:
        return f"{value:+,.2f}" if signed else f"{value:,.2f}"
    return f"{value * 100:+.2f}pp" if signed else f"{value:.2%}"


def _p(value: float | None) -> str:
    return "-" if value is None else (f"{value:.3f}" if value >= 0.001 else "<0.001")


def lift_markdown(report: ExperimentReport) -> str:
    """The report for the Dagster UI: the summary, a table per arm and metric, and a forest plot of
    the relative lifts (CUPED where it applies)."""
    from ml.evaluation_plots import png_markdown, relative_lift_png

    text = render_lift_report(report).splitlines()
    summary = [line for line in text[2:] if line and not line.startswith(("arm ", "---", "  "))]
    lines = [f"**{text[0]}**", "", *(f"- {line}" for line in summary)]
    if report.lift is None:
        return "\n".join(lines)
    lines += ["", "| arm | metric | control | arm | difference [95% CI] | p | CUPED difference [95% CI] | narrower |",
              "|---|---|---|---|---|---|---|---|"]
    estimates: dict[str, tuple[float, float, float]] = {}
    for item in report.lift.metrics:
        lift = item.lift
        cuped = _interval(item.metric, item.cuped) if item.cuped is not None else "-"
        narrower = f"{item.ci_narrowing:.0%}" if item.ci_narrowing is not None else "-"
        lines.append(f"| {item.arm} | {item.metric} | {_value(item.metric, lift.control_mean)} | {_value(item.metric, lift.treatment_mean)} "
                     f"| {_interval(item.metric, lift)} | {_p(lift.p_value)} | {cuped} | {narrower} |")
        shown = item.cuped if item.cuped is not None and item.cuped.relative_ci_low is not None else lift
        if shown.relative_lift is not None and shown.relative_ci_low is not None and shown.relative_ci_high is not None:
            estimates[f"{item.arm}: {item.metric}"] = (shown.relative_lift, shown.relative_ci_low, shown.relative_ci_high)
    if estimates:
        lines += ["", png_markdown(relative_lift_png(estimates, f"{report.experiment_id}: lift over {report.lift.control}"), "relative lift")]
    return "\n".join(lines)


def render_truth_comparison(report: ExperimentReport, effects: pl.DataFrame) -> str:
    """Generated data only: each metric's estimate next to the effect `cxp generate` planted, and
    whether the 95% interval (plain and CUPED) holds it."""
    if report.lift is None:
        return ""
    planted = effects.filter(pl.col("experiment_id") == report.experiment_id)
    if planted.is_empty():
        return f"(no planted effect recorded for {report.experiment_id})\n"
    lines = [f"{'arm':<14} {'metric':<21} {'true effect':>12} {'estimate':>12} {'covered':>8} {'CUPED covered':>14}"]
    for item in report.lift.metrics:
        rows = planted.filter(pl.col("metric") == item.metric)
        if "arm" in rows.columns:
            rows = rows.filter(pl.col("arm") == item.arm)
        if rows.is_empty():
            continue
        truth = float(rows["effect"][0])
        cuped = ("yes" if interval_covers(item.cuped, truth) else "NO") if item.cuped is not None else "-"
        lines.append(f"{item.arm:<14} {item.metric:<21} {_value(item.metric, truth, signed=True):>12} "
                     f"{_value(item.metric, item.lift.difference, signed=True):>12} "
                     f"{'yes' if interval_covers(item.lift, truth) else 'NO':>8} {cuped:>14}")
    return "Against the planted effect (generated data):\n" + "\n".join(lines) + "\n"
