"""Row-level contract checks, vectorised in polars: each failing row gets every reason it fails."""

from __future__ import annotations

import json
from datetime import datetime

import polars as pl

from dagster_project.ingest.contracts import FieldFormat, SourceContract

PARSE_PROBLEM = "_parse_problem"
REASON = "reason"

_PATTERNS = {
    FieldFormat.DECIMAL: r"^\s*-?\d+(\.\d+)?\s*$",
    FieldFormat.INTEGER: r"^\s*-?\d+\s*$",
    FieldFormat.UNIX_SECONDS: r"^\d+$",
    FieldFormat.BOOLEAN_FLAG: r"^(?i)\s*(1|0|true|false)\s*$",
    FieldFormat.TRUE_FALSE: r"^(?i)\s*(true|false)\s*$",
}
# Data type instances throughout (`pl.Date()`, not the class `pl.Date`): the type checker then sees temporal types.
_TEMPORAL = {
    FieldFormat.SALESFORCE_TIMESTAMP: (pl.Datetime("us"), "%Y-%m-%dT%H:%M:%S%.fZ"),
    FieldFormat.ISO_UTC_TIMESTAMP: (pl.Datetime("us"), "%Y-%m-%dT%H:%M:%S%.fZ"),
    FieldFormat.SHOPIFY_TIMESTAMP: (pl.Datetime("us", "UTC"), "%Y-%m-%d %H:%M:%S %z"),
    FieldFormat.US_DATE: (pl.Date(), "%m/%d/%Y"),
    FieldFormat.ISO_DATE: (pl.Date(), "%Y-%m-%d"),
}


def parses_as(value: pl.Expr, field_format: FieldFormat) -> pl.Expr:
    """True where a non-null text value is written in the given format."""
    if field_format in _PATTERNS:
        return value.str.contains(_PATTERNS[field_format])
    dtype, pattern = _TEMPORAL[field_format]
    return value.str.strip_chars().str.strptime(dtype, pattern, strict=False).is_not_null()


def _field(frame_format: str, name: str) -> pl.Expr:
    if frame_format == "csv":
        return pl.col(name)
    return pl.col("payload").str.json_path_match(f"$.{name}")


# Formats of the time something happened: none may lie after the file that reports it was written.
_EVENT_TIMES = (FieldFormat.SALESFORCE_TIMESTAMP, FieldFormat.ISO_UTC_TIMESTAMP, FieldFormat.SHOPIFY_TIMESTAMP, FieldFormat.UNIX_SECONDS)


def _utc_time(value: pl.Expr, field_format: FieldFormat) -> pl.Expr:
    """The value as a naive UTC datetime (null where it does not parse)."""
    if field_format is FieldFormat.UNIX_SECONDS:
        return pl.from_epoch(value.str.strip_chars().cast(pl.Int64, strict=False), time_unit="s")
    dtype, pattern = _TEMPORAL[field_format]
    parsed = value.str.strip_chars().str.strptime(dtype, pattern, strict=False)
    return parsed.dt.convert_time_zone("UTC").dt.replace_time_zone(None) if field_format is FieldFormat.SHOPIFY_TIMESTAMP else parsed


def with_quarantine_reason(frame: pl.DataFrame, contract: SourceContract, latest_allowed: datetime | None = None) -> pl.DataFrame:
    """Add a `reason` column: null for a row that may load, otherwise every contract breach found.

    With `latest_allowed` (the end of the file's extract day plus the raw gate's slack), a row
    stamped later is quarantined: one impossible time (a 2031 update) keeps one row out, where the
    partition's gate would otherwise stop the whole night until the file is re-delivered."""
    checks: list[pl.Expr] = []
    kind = "column" if contract.file_format == "csv" else "key"
    for name in contract.required:
        value = _field(contract.file_format, name)
        empty = value.is_null() | (value.str.strip_chars().str.len_bytes() == 0)
        checks.append(pl.when(empty).then(pl.lit(f"required {kind} '{name}' is missing or empty")))
    for name, field_format in contract.formats.items():
        value = _field(contract.file_format, name)
        bad = value.is_not_null() & (value.str.strip_chars().str.len_bytes() > 0) & ~parses_as(value, field_format)
        message = pl.format("'{}' value '{}' is not in the contract format ({})", pl.lit(name), value.str.slice(0, 60), pl.lit(field_format.value))
        checks.append(pl.when(bad).then(message))
        if latest_allowed is not None and field_format in _EVENT_TIMES:
            late = ~bad & (_utc_time(value, field_format) > pl.lit(latest_allowed))
            checks.append(pl.when(late).then(pl.format("'{}' value '{}' is after its file's extract day (later than {} UTC)", pl.lit(name),
                                                       value.str.slice(0, 60), pl.lit(f"{latest_allowed:%Y-%m-%d %H:%M}"))))
    reason = pl.concat_str(checks, separator="; ", ignore_nulls=True) if checks else pl.lit("")
    reason = pl.when(reason.str.len_bytes() > 0).then(reason)
    if PARSE_PROBLEM in frame.columns:
        # A record the CSV tokenizer could not split has no trustworthy fields to check.
        reason = pl.coalesce(pl.col(PARSE_PROBLEM), reason)
    frame = frame.with_columns(reason.alias(REASON))
    if contract.file_format == "jsonl":
        frame = _explain_unparseable_json(frame)
    return frame


def _explain_unparseable_json(frame: pl.DataFrame) -> pl.DataFrame:
    """Polars cannot tell invalid JSON from a missing key: name the real problem for the few flagged lines."""
    flagged = frame.filter(pl.col(REASON).is_not_null())
    if flagged.height == 0:
        return frame
    explained: list[str] = []
    for payload, reason in zip(flagged["payload"], flagged[REASON]):
        try:
            parsed = json.loads(payload)
        except json.JSONDecodeError as error:
            explained.append(f"not valid JSON: {error.msg} at column {error.colno}")
            continue
        explained.append(reason if isinstance(parsed, dict) else f"a JSON {type(parsed).__name__}, not an object")
    lookup = flagged.select("_line_number").with_columns(pl.Series("_explained", explained, dtype=pl.String))
    return (
        frame.join(lookup, on="_line_number", how="left")
        .with_columns(pl.coalesce("_explained", REASON).alias(REASON))
        .drop("_explained")
    )
