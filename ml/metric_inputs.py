"""The arrays every evaluation metric takes, checked once: numeric, one-dimensional, non-empty,
finite and of equal length, binary labels holding both classes. Each check's error says which
argument broke it and how, so a caller passing the wrong column learns it from the message.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike  # numpy arrays, polars Series (via __array__), lists


def numeric_vector(values: ArrayLike, name: str) -> np.ndarray:
    """One non-empty numeric column as float64; polars nulls become NaN (and are rejected later)."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be numeric: {error}") from error
    if array.ndim != 1:
        raise ValueError(
            f"{name} must be one-dimensional, got shape {array.shape}"
            + (" (for a classifier pass predict_proba(X)[:, 1])" if array.ndim == 2 else "")
        )
    if array.size == 0:
        raise ValueError(f"{name} is empty: there is nothing to evaluate")
    return array


def require_finite(array: np.ndarray, name: str) -> None:
    if np.isfinite(array).all():
        return
    nan_count = int(np.isnan(array).sum())
    infinite_count = int(np.isinf(array).sum())
    found = " and ".join(
        ([f"{nan_count:,} NaN (or null)"] if nan_count else []) + ([f"{infinite_count:,} infinite"] if infinite_count else [])
    )
    raise ValueError(f"{name} contains {found} value(s) out of {array.size:,} rows; every row must have a finite value")


def matching_predictions(values: ArrayLike, name: str, rows: int) -> np.ndarray:
    array = numeric_vector(values, name)
    if len(array) != rows:
        raise ValueError(f"length mismatch: y_true has {rows:,} rows but {name} has {len(array):,}")
    require_finite(array, name)
    return array


def binary_labels(y_true: ArrayLike) -> np.ndarray:
    labels = numeric_vector(y_true, "y_true")
    require_finite(labels, "y_true")
    stray = labels[(labels != 0.0) & (labels != 1.0)]
    if stray.size:
        raise ValueError(f"y_true must hold binary labels 0/1 (or booleans); found {stray.size:,} other value(s), e.g. {stray[0]:g}")
    positives = int(labels.sum())
    if positives in (0, len(labels)):
        only = "1 (all positive)" if positives else "0 (no positives)"
        raise ValueError(
            f"y_true holds a single class, only {only}, in {len(labels):,} rows: ROC AUC and average precision are undefined"
        )
    return labels
