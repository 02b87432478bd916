"""Bias audit of a model version on its evaluation rows: score distributions, error rates and
calibration per segment (country, age band, acquisition source), each set against all customers as
a disparity ratio and flagged outside the configured range.

The segments are read from the warehouse for the audit only: the models do not learn from country
or birthdate (see `FairnessSettings.protected_inputs`). For a classifier the audit looks at the
customers the model would pick, the top `selection_share` of scores; for lifetime value at the
error relative to the value. Ratios follow the four-fifths rule by default: 0.8 to 1.25.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

import duckdb
import numpy as np
import polars as pl
from sklearn.metrics import roc_auc_score

from ml.model_settings import FairnessSettings

UNKNOWN = "unknown"


def read_segments(connection: duckdb.DuckDBPyConnection, as_of: date, settings: FairnessSettings) -> pl.DataFrame:
    """Per current customer: country, age band at `as_of` (from the birthdate) and acquisition source
    (the CRM lead source of their first contact, else the source that saw them first)."""
    edges = sorted(settings.age_band_edges)
    bands = " ".join(f"WHEN age < {upper} THEN '{lower}-{upper - 1}'" for lower, upper in zip([0, *edges], edges))
    return connection.sql(f"""
        WITH first_contact AS (
            SELECT records.customer_id, arg_min(coalesce(contacts.lead_source, 'CRM, no lead source'), contacts.created_at) AS lead_source
            FROM intermediate.int_customer_records AS records
            JOIN staging.stg_salesforce__contacts AS contacts ON records.source = 'crm_contact' AND records.source_key = contacts.contact_id
            GROUP BY records.customer_id
        ), first_record AS (
            SELECT customer_id, arg_min(source, first_seen_at) AS first_source FROM intermediate.int_customer_records GROUP BY customer_id
        ), aged AS (
            SELECT customer_id, country_code, date_diff('year', birthdate, $as_of)
                - CASE WHEN strftime(birthdate, '%m%d') > strftime($as_of, '%m%d') THEN 1 ELSE 0 END AS age
            FROM marts.dim_customers
        )
        SELECT aged.customer_id,
            coalesce(aged.country_code, '{UNKNOWN}') AS country,
            CASE WHEN age IS NULL THEN '{UNKNOWN}' {bands} ELSE '{edges[-1]}+' END AS age_band,
            coalesce(first_contact.lead_source, CASE WHEN first_record.first_source IS NOT NULL
                     THEN 'no CRM record (' || first_record.first_source || ')' END, '{UNKNOWN}') AS acquisition_source
        FROM aged LEFT JOIN first_contact USING (customer_id) LEFT JOIN first_record USING (customer_id)
    """, params={"as_of": as_of}).pl()


@dataclass(frozen=True)
class SegmentMeasures:
    """What the audit measures on one segment (or on all customers)."""

    mean_score: float
    mean_label: float
    calibration_ratio: float | None
    """Mean score over mean outcome: above 1 the model overstates this segment's risk or value."""
    selection_rate: float | None = None
    """Classifiers: share of the segment among the customers the model would pick."""
    false_positive_rate: float | None = None
    false_negative_rate: float | None = None
    roc_auc: float | None = None
    relative_error: float | None = None
    """Lifetime value: mean absolute error over the mean value."""


@dataclass(frozen=True, kw_only=True)
class SegmentResult(SegmentMeasures):
    dimension: str
    segment: str
    rows: int
    ratios: dict[str, float | None]
    """Each measure of the segment over the same measure on all customers."""
    flags: list[str]
    judged: bool
    """False for a segment too small to judge; it is listed, not flagged."""


def _ratio(value: float | None, overall: float | None) -> float | None:
    if value is None or overall is None or not np.isfinite(value) or not np.isfinite(overall) or overall == 0:
        return None
    return float(value / overall)


def _measures(kind: str, label: np.ndarray, score: np.ndarray, selected: np.ndarray) -> SegmentMeasures:
    mean_label = float(label.mean())
    calibration = float(score.mean() / mean_label) if mean_label > 0 else None
    if kind != "classifier":
        relative_error = float(np.abs(score - label).mean() / mean_label) if mean_label > 0 else None
        return SegmentMeasures(float(score.mean()), mean_label, calibration, relative_error=relative_error)
    positives, negatives = label == 1, label == 0
    return SegmentMeasures(
        float(score.mean()), mean_label, calibration, selection_rate=float(selected.mean()),
        false_positive_rate=float(selected[negatives].mean()) if negatives.any() else None,
        false_negative_rate=float((~selected[positives]).mean()) if positives.any() else None,
        roc_auc=float(roc_auc_score(label.astype(np.int8), score)) if min(positives.sum(), negatives.sum()) >= 5 else None,
    )


_JUDGED = {"classifier": ("selection_rate", "false_positive_rate", "false_negative_rate", "calibration_ratio"),
           "regressor": ("mean_score", "relative_error", "calibration_ratio")}


def audit_bias(kind: str, rows: pl.DataFrame, score: np.ndarray, settings: FairnessSettings) -> list[SegmentResult]:
    """One result per segment of each dimension, plus `all` for everyone. `rows` holds `label` and
    a column per dimension of `settings.segments`, aligned with `score`."""
    label = rows["label"].to_numpy().astype(float)
    score = np.asarray(score, dtype=float)
    # The customers a campaign would pick: the top share of scores over everyone.
    threshold = np.quantile(score, 1 - settings.selection_share) if len(score) else np.inf
    selected = score >= threshold
    overall = _measures(kind, label, score, selected)
    results = [SegmentResult(dimension="all", segment="all", rows=len(score), **asdict(overall), ratios={}, flags=[], judged=True)]
    for dimension in settings.segments:
        values = rows[dimension].to_numpy()
        for segment in sorted(set(values.tolist())):
            mask = values == segment
            measures = _measures(kind, label[mask], score[mask], selected[mask])
            ratios = {name: _ratio(getattr(measures, name), getattr(overall, name)) for name in _JUDGED[kind]}
            judged = int(mask.sum()) >= settings.min_segment_rows
            flags = [f"{name.replace('_', ' ')} {ratio:.2f}x all customers'" for name, ratio in ratios.items()
                     if judged and ratio is not None and not settings.min_disparity_ratio <= ratio <= settings.max_disparity_ratio]
            results.append(SegmentResult(dimension=dimension, segment=str(segment), rows=int(mask.sum()), **asdict(measures), ratios=ratios,
                                         flags=flags, judged=judged))
    return results


def audit_report(results: list[SegmentResult], settings: FairnessSettings) -> dict:
    """The audit as saved with the model version (`bias_audit.json`)."""
    return {"settings": settings.model_dump(), "segments": [asdict(result) for result in results],
            "flagged": [f"{r.dimension}={r.segment}: {', '.join(r.flags)}" for r in results if r.flags]}


def audit_markdown(report: dict) -> str:
    """The audit as a table for the Dagster UI and the model card."""
    settings = report["settings"]
    lines = [f"Segments of at least {settings['min_segment_rows']} evaluation rows are judged; a ratio to all customers outside "
             f"{settings['min_disparity_ratio']}–{settings['max_disparity_ratio']} is flagged.", "",
             "| segment | rows | mean score | mean outcome | calibration | selection | FPR | FNR | ROC AUC | rel. error | flags |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]

    def shown(value: float | None) -> str:
        return "–" if value is None else f"{value:.3f}"

    for segment in report["segments"]:
        flags = "; ".join(segment["flags"]) or ("" if segment["judged"] else "too few rows to judge")
        lines.append(f"| {segment['dimension']}={segment['segment']} | {segment['rows']:,} | {shown(segment['mean_score'])} | "
                     f"{shown(segment['mean_label'])} | {shown(segment['calibration_ratio'])} | {shown(segment['selection_rate'])} | "
                     f"{shown(segment['false_positive_rate'])} | {shown(segment['false_negative_rate'])} | {shown(segment['roc_auc'])} | "
                     f"{shown(segment['relative_error'])} | {flags} |")
    return "\n".join(lines)
