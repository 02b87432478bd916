"""A rule's outcome as a Dagster check result: the verdict, what was observed, samples, the Data Docs links.

Dagster keeps check metadata in its run history for as long as the instance lives, beyond the
reach of erasure's table deletes. So samples and offending rows show where a row is (file and
line, partition), the values of columns that say nothing about a person (the contract's
`shareable` ones), numbers and flags; any other text is withheld. The row itself is one
`sed -n '<line>p' <file>` away for whoever may read the landing zone.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection

import dagster as dg
import duckdb

from dagster_project.defs.quality.resources import QualityGates
from data_quality.rules import RuleOutcome, Severity

_SEVERITY = {Severity.BLOCKING: dg.AssetCheckSeverity.ERROR, Severity.WARNING: dg.AssetCheckSeverity.WARN}
_SHOWN_SAMPLES = 10
WITHHELD = "‹withheld›"
# Columns of where a row is, not of whom: kept in samples.
_LOCATING_COLUMNS = frozenset({"_source_file", "_line_number", "_extract_date", "snapshot_date", "partition", "extract_date",
                               "aspect", "field"})  # a partition profile's row: what was measured, of which column


def check_result(asset_key: dg.AssetKey, outcome: RuleOutcome, quality: QualityGates, extra: dict | None = None,
                 shareable: Collection[str] = ()) -> dg.AssetCheckResult:
    """The check result of one rule; failing expectations come first in the metadata, the links to
    its Data Docs page last. Sample values are withheld unless locating, numeric or in `shareable`
    (see the module's docstring)."""
    failing = [e for e in outcome.expectations if not e.success]
    metadata: dict[str, dg.MetadataValue | str | int | float] = {
        "rule": outcome.rule.description,
        "severity": outcome.rule.severity.value,
        "batch": outcome.rule.batch,
        "batch_rows_validated": outcome.rows_validated,
        "expectations": dg.MetadataValue.md(_expectations_table(outcome)),
    }
    samples = [withhold_personal(sample, shareable, expectation.column) for expectation in failing
               for sample in expectation.samples][:_SHOWN_SAMPLES]
    if samples:
        metadata["failing_samples"] = dg.MetadataValue.md(_table(samples))
    if outcome.docs_page:
        metadata.update(quality.docs_links(outcome.docs_page))
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=outcome.rule.name,
        passed=outcome.passed,
        severity=_SEVERITY[outcome.rule.severity],
        description=outcome.rule.description,
        metadata={**metadata, **(extra or {})},
    )


def withhold_personal(sample: dict, shareable: Collection[str] = (), column: str | None = None) -> dict:
    """A sample row with every text value withheld but locating and `shareable` columns'. GX names
    the failing column's value `value` when it has no index: it is shareable when its column is."""
    allowed = _LOCATING_COLUMNS | set(shareable)
    return {key: value if (key in allowed or (key == "value" and column in allowed) or not isinstance(value, str)) else WITHHELD
            for key, value in sample.items()}


def offending_raw_rows(connection: duckdb.DuckDBPyConnection, table: str, outcome: RuleOutcome,
                       shareable: Collection[str] = ()) -> dict[str, dg.MetadataValue]:
    """The raw rows behind a failing rule's samples, for the check's metadata: the shareable
    columns' values, and which other columns hold a value (raw values are all text: withheld)."""
    located = {
        (sample["_source_file"], int(sample["_line_number"]))
        for expectation in outcome.expectations if not expectation.success
        for sample in expectation.samples
        if isinstance(sample.get("_source_file"), str) and _is_number(sample.get("_line_number"))
    }
    if not located:
        return {}
    rows = []
    for source_file, line in sorted(located)[:_SHOWN_SAMPLES]:
        cursor = connection.execute(
            f"SELECT * EXCLUDE (_extract_date, _source_file, _line_number, _loaded_at) FROM {table} "
            "WHERE _source_file = ? AND _line_number = ?", [source_file, line],
        )
        names = [column[0] for column in cursor.description]
        for values in cursor.fetchall():
            held = {name: value for name, value in zip(names, values) if value not in (None, "")}
            shown = {name: value for name, value in withhold_personal(held, shareable).items() if value != WITHHELD}
            rows.append({"file": source_file, "line": line, "record": json.dumps(shown, default=str)[:1000],
                         "withheld": ", ".join(name for name in held if name not in shown)[:300]})
    return {"offending_rows": dg.MetadataValue.md(_table(rows))} if rows else {}


def _is_number(value) -> bool:
    """A line number: not missing, and not pandas' NaN for a profile row no line stands behind."""
    return isinstance(value, (int, float)) and not math.isnan(value)


def _expectations_table(outcome: RuleOutcome) -> str:
    rows = [
        {"expectation": e.expectation, "column": e.column or "", "success": "✓" if e.success else "✗",
         **{key: e.observed.get(key, "") for key in ("element_count", "unexpected_count", "unexpected_percent", "observed_value")}}
        for e in sorted(outcome.expectations, key=lambda e: e.success)
    ]
    return _table(rows)


def _table(rows: list[dict]) -> str:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(column, "")) for column in columns) + " |")
    return "\n".join(lines)


def _cell(value) -> str:
    if isinstance(value, float):
        value = "" if math.isnan(value) else f"{value:.4g}"
    return str(value).replace("|", "\\|").replace("\n", " ")
