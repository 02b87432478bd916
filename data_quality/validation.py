"""Running a suite through Great Expectations: results kept per run, rendered as Data Docs.

The project is a GE file context in the platform's home (`$CXP_HOME/quality/gx`). Suites are
code: every validation writes the suite as the code defines it into the project's store, so the
stored suite, the result and the Data Docs page always show what actually ran. Batches are
pandas frames (the SQL datasource on DuckDB fails silently, see FIELD-NOTES), one validation
definition and checkpoint per suite and batch; the run name is the Dagster run id. The pages are
built to open offline and to name each rule (`data_quality.data_docs`).
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from data_quality.data_docs import build_pages, label_expectation, name_data_asset
from data_quality.rules import Batch, ExpectationOutcome, Rule, RuleOutcome, Suite

_DATASOURCE = "cxp_warehouse"
_SAMPLE_ROWS = 10
_OBSERVED_KEYS = ("observed_value", "element_count", "unexpected_count", "unexpected_percent", "missing_count")


def validate_batches(suite: Suite, batches: dict[str, Batch], project_dir: Path, run_name: str) -> list[RuleOutcome]:
    """Validate each batch against the suite's rules on it (one GE validation per batch); every rule's outcome."""
    return validate_suites([(suite, batches)], project_dir, run_name)[suite.name]


def validate_suites(
    suites: list[tuple[Suite, dict[str, Batch]]], project_dir: Path, run_name: str
) -> dict[str, list[RuleOutcome]]:
    """Validate several suites in one Great Expectations session and one Data Docs build (each costs
    about a second whatever the data): every rule's outcome, by suite name."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx  # 6–8 s: only where a check runs

    context = _open_project(gx, project_dir)
    validated: list[tuple[str, Any, list[RuleOutcome]]] = []
    for suite, batches in suites:
        for batch_name, batch in batches.items():
            rules = [rule for rule in suite.rules if rule.batch == batch_name]
            if rules:
                result_id, outcomes = _validate(gx, context, f"{suite.name}.{batch_name}", rules, batch, run_name)
                validated.append((suite.name, result_id, outcomes))
    pages = build_pages(context, [result_id for _, result_id, _ in validated]) if validated else {}
    by_suite: dict[str, list[RuleOutcome]] = {suite.name: [] for suite, _ in suites}
    for suite_name, result_id, outcomes in validated:
        by_suite[suite_name] += [replace(outcome, docs_page=pages[result_id]) for outcome in outcomes]
    return by_suite


def _validate(gx: Any, context: Any, name: str, rules: list[Rule], batch: Batch, run_name: str) -> tuple[Any, list[RuleOutcome]]:
    """One batch through its checkpoint: the stored result's id and each rule's outcome."""
    expectations = [label_expectation(expectation, rule) for rule in rules for expectation in rule.expectations(gx.expectations)]
    checkpoint = _checkpoint(gx, context, name, expectations, batch)
    result = checkpoint.run(
        batch_parameters={"dataframe": batch.frame},
        run_id=gx.core.run_identifier.RunIdentifier(run_name=run_name),
    )
    (result_id, run_result), = result.run_results.items()
    name_data_asset(context, result_id, name)
    by_rule: dict[str, list[ExpectationOutcome]] = {rule.name: [] for rule in rules}
    for expectation_result in run_result.results:
        config = expectation_result.expectation_config
        by_rule[config.meta["rule"]].append(_outcome(expectation_result, config))
    return result_id, [
        RuleOutcome(rule=rule, expectations=tuple(by_rule[rule.name]), rows_validated=len(batch.frame), docs_page=None)
        for rule in rules
    ]


def _open_project(gx: Any, project_dir: Path) -> Any:
    from great_expectations.data_context.types.base import ProgressBarsConfig

    project_dir.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(project_dir))
    # Progress bars would land in the Dagster run's stdout, one per metric.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _checkpoint(gx: Any, context: Any, name: str, expectations: list, batch: Batch) -> Any:
    """The suite, validation definition and checkpoint of one batch, as the code defines them now."""
    datasource = context.data_sources.add_or_update_pandas(_DATASOURCE)
    asset = next((a for a in datasource.assets if a.name == name), None) or datasource.add_dataframe_asset(name)
    definition = next((d for d in asset.batch_definitions if d.name == "whole_frame"), None)
    definition = definition or asset.add_batch_definition_whole_dataframe("whole_frame")
    suite = context.suites.add_or_update(gx.ExpectationSuite(name=name, expectations=expectations))
    validation = context.validation_definitions.add_or_update(gx.ValidationDefinition(name=name, data=definition, suite=suite))
    result_format: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": _SAMPLE_ROWS}
    if batch.index_columns:
        result_format["unexpected_index_column_names"] = list(batch.index_columns)
    return context.checkpoints.add_or_update(gx.Checkpoint(
        name=name,
        validation_definitions=[validation],
        actions=[],
        result_format=result_format,
    ))


def _outcome(expectation_result: Any, config: Any) -> ExpectationOutcome:
    result = expectation_result.result or {}
    samples = result.get("partial_unexpected_index_list") or [
        {"value": value} for value in result.get("partial_unexpected_list") or []
    ]
    return ExpectationOutcome(
        expectation=config.type,
        column=config.kwargs.get("column") or config.kwargs.get("column_A"),
        success=bool(expectation_result.success),
        observed={key: _plain(result[key]) for key in _OBSERVED_KEYS if result.get(key) is not None},
        samples=[{key: _plain(value) for key, value in sample.items()} for sample in samples[:_SAMPLE_ROWS]],
    )


def _plain(value: Any) -> Any:
    """JSON-friendly: numpy scalars and timestamps become Python numbers and ISO strings."""
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        value = value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
