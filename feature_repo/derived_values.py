"""Arithmetic of the on-demand features, for columns in either of the forms Feast hands them over.

Online, a "python" mode transformation gets a few values per column as Python lists; offline, the
DuckDB store hands it NumPy arrays (see offline_store). Each function takes either and answers in
NumPy; `served` turns an answer back into what Feast expects.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import numpy as np

_DAY = np.timedelta64(86_400, "s")


def days_before_now(inputs: dict[str, Any], column: str) -> np.ndarray:
    """Days from each value of a timestamp column to "now": the entity row's event_timestamp
    offline, the time of the request online. NaN where the timestamp is missing."""
    values = inputs[column]
    if isinstance(values, np.ndarray):
        return (inputs["event_timestamp"] - values) / _DAY
    now = datetime.now(timezone.utc)
    return np.array([np.nan if value is None else (now - (value if value.tzinfo else value.replace(tzinfo=timezone.utc)))
                     .total_seconds() / 86_400 for value in values], dtype="float64")


def number(inputs: dict[str, Any], column: str) -> np.ndarray:
    """A numeric column as floats, NaN where missing."""
    values = inputs[column]
    if isinstance(values, np.ndarray):
        return values.astype("float64")
    return np.array([np.nan if value is None else value for value in values], dtype="float64")


def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator where the denominator is positive, NaN elsewhere."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / denominator, np.nan)


def served(columns: dict[str, np.ndarray]) -> dict[str, list[float]]:
    """The transformation's output: lists of floats, NaN where undefined (Feast serves a null)."""
    return {name: np.asarray(values, dtype="float64").tolist() for name, values in columns.items()}
