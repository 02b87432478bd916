"""What `cxp run` prints when the run is over: a summary of what it built, or, when it stopped, one
block saying what failed, where, what was not run and how to replay it."""

from __future__ import annotations

from dagster_project.cli.run_outcome import CheckOutcome, PipelineOutcome
from dagster_project.settings import Settings

# A failed check's sample table shown under it: header, rule and three rows.
_SHOWN_SAMPLE_LINES = 5


def failed_check_lines(failed_checks: list[CheckOutcome]) -> list[str]:
    """The lines of the checks that failed: the rule, the first rows that broke it, and where
    raw-export thresholds are changed."""
    lines = []
    for check in failed_checks:
        rule = f": {check.metadata['rule']}" if check.metadata.get("rule") else ""
        lines.append(f"  {'✗' if check.severity == 'ERROR' else '!'} {check.asset}: {check.check} ({check.severity}){rule}")
        # Which partitions or rows broke the rule: the first lines of the check's sample table.
        lines += [f"      {line}" for line in str(check.metadata.get("failing_samples", "")).splitlines()[:_SHOWN_SAMPLE_LINES]]
    if any(check.asset.startswith("raw/") for check in failed_checks):
        lines.append("  Raw-export thresholds: data_quality/thresholds.yml; an environment changes them (per source too) "
                     "in the YAML file CXP_QUALITY_THRESHOLDS names.")
    return lines


def summary_lines(outcome: PipelineOutcome, settings: Settings) -> list[str]:
    """Everything printed after the run's progress lines, before the closing error if it failed."""
    lines = [f"\nRun {outcome.run_id} over extract dates {outcome.first_date} … {outcome.last_date}",
             "Files per source: " + ", ".join(f"{name} {count}" for name, count in outcome.files_per_source.items())]
    if outcome.absent_sources:
        lines.append("Sources with no file (the run goes on without them; their features are null): " + ", ".join(outcome.absent_sources))
    if outcome.identity_note:
        lines.append(f"Identity: {outcome.identity_note}")
    if outcome.quarantined_per_source:
        lines.append("Quarantined rows (raw.quarantine): " + ", ".join(f"{k} {v:,}" for k, v in outcome.quarantined_per_source.items()))
    blocked = [check for check in outcome.failed_checks if check.severity == "ERROR"]
    if not outcome.success and blocked and not outcome.interrupted and not outcome.disk_full_steps:
        return lines + _stopped_at_a_gate(outcome, blocked, settings)
    lines.append(f"\nWarehouse {settings.warehouse_path}")
    width = max((len(name) for name in outcome.table_rows), default=10)
    lines += [f"  {name:<{width}}  {count:>12,} rows" for name, count in outcome.table_rows.items()]
    lines.append(f"dbt output: {outcome.log_file}")
    passed = sum(check.passed for check in outcome.checks)
    lines.append(f"\nChecks: {passed:,} of {len(outcome.checks):,} passed")
    lines += failed_check_lines(outcome.failed_checks)
    if outcome.erasure_note:
        lines.append(f"\nPrivacy: {outcome.erasure_note}")
    if outcome.model_notes:
        lines.append("\nModels (cxp eval models compares them with their baselines):")
        lines += [f"  {note}" for note in outcome.model_notes]
    if outcome.checks:
        lines.append(f"Great Expectations Data Docs: {_data_docs(settings)}")
    return lines


def _stopped_at_a_gate(outcome: PipelineOutcome, blocked: list[CheckOutcome], settings: Settings) -> list[str]:
    """One block: the checks that stopped the run, what did not run, where the report is, how to replay."""
    gates = "a blocking check" if len(blocked) == 1 else f"{len(blocked)} blocking checks"
    not_run = f"{len(outcome.not_executed)} steps after it did not run" if outcome.not_executed else "nothing after it ran"
    replay = f"cxp run --date {outcome.last_date}" if outcome.first_date == outcome.last_date else "cxp run"
    return [
        f"\nStopped: {gates} failed; {not_run}, and their tables keep the last good build.",
        *failed_check_lines(blocked),
        f"  Report: {_data_docs(settings)}",
        f"  Replay: fix the data the check names and deliver the file again, then `{replay}`.",
    ]


def _data_docs(settings: Settings) -> str:
    from dagster_project.docs_site.server import quality_page_url
    from data_quality.data_docs import site_dir

    return f"{quality_page_url('index.html', settings.docs_port)} (`cxp docs` serves it), {(site_dir(settings.quality_dir) / 'index.html').as_uri()}"
