"""Out-of-time evaluation metrics for the churn / purchase-propensity classifiers and the CLV regressor.

Every function takes plain array-likes (numpy arrays, polars Series, lists) of equal length; the
metric dicts hold plain Python numbers, so they go straight into Dagster metadata or JSON.

Ties in the ranking score are handled the way ROC AUC handles them: a group of customers with the
same score is targeted all or nothing, and a cut-off that falls inside such a group counts the
group at its average rate (the expected result of breaking the tie at random). So the lift and
value-share figures never depend on the order the rows happen to arrive in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike  # numpy arrays, polars Series (via __array__), lists
from scipy import stats
from sklearn import metrics

from ml.metric_inputs import binary_labels, matching_predictions, numeric_vector, require_finite

# The head of the ranking the business acts on: the campaign targets the top 10% for churn /
# propensity, and the top 20% of customers is where CLV models earn their keep.
LIFT_TOP_SHARE = 0.10


VALUE_TOP_SHARE = 0.20


DECILES = 10


@dataclass(frozen=True)
class CalibrationBin:
    """One decile of the predictions: how many rows, their mean prediction and their mean outcome.

    `decile` is the bin's position in the ranking, 1 (lowest predictions) to 10 (highest). When ties
    force deciles together, the merged bin takes the decile in which its middle row falls, so some
    numbers are missing and decile 10 still means "the top of the ranking".
    """

    decile: int
    count: int
    mean_predicted: float
    mean_observed: float


def classifier_metrics(y_true: ArrayLike, probability: ArrayLike) -> dict[str, float]:
    """Ranking, calibration and lift metrics of a binary classifier on an out-of-time sample.

    Keys: `roc_auc`, `pr_auc` (average precision), `brier`, `lift_top_10pct` (positive rate among
    the 10% of rows with the highest probability, over the overall positive rate; ties at the cut-off
    count at their group's average rate, and when 10% of the rows is not a whole number the row at
    the cut-off counts in part), `positive_rate` and `rows`.

    Raises ValueError on mismatched lengths, empty input, NaN / infinite values, labels other than
    0/1, probabilities outside [0, 1], or labels of a single class (AUC is undefined).
    """
    labels = binary_labels(y_true)
    probabilities = matching_predictions(probability, "probability", len(labels))
    if probabilities.min() < 0.0 or probabilities.max() > 1.0:
        raise ValueError(
            f"probability must lie in [0, 1] (Brier score); found values from {probabilities.min():g} "
            f"to {probabilities.max():g}. Pass predict_proba(X)[:, 1], not a decision function or logit."
        )
    positive_rate = float(labels.mean())
    classes = labels.astype(np.int8)  # integer labels: sklearn's class detection is twice as fast on them
    return {
        "roc_auc": float(metrics.roc_auc_score(classes, probabilities)),
        "pr_auc": float(metrics.average_precision_score(classes, probabilities)),
        "brier": float(metrics.brier_score_loss(classes, probabilities)),
        # Share of positives captured by the top 10%, per 10% targeted: the same number as
        # (positive rate in the top 10%) / (overall positive rate), without rounding 10% of the rows.
        "lift_top_10pct": float(_captured_share(labels, probabilities, LIFT_TOP_SHARE) / LIFT_TOP_SHARE),
        "positive_rate": positive_rate,
        "rows": len(labels),
    }


def regression_metrics(y_true: ArrayLike, prediction: ArrayLike) -> dict[str, float]:
    """Error, ranking and concentration metrics of a value (CLV) regressor on an out-of-time sample.

    Keys: `mae`, `rmse`, `spearman` (rank correlation of prediction and actual), `top_20pct_value_share`
    (share of the total actual value held by the 20% of customers with the highest prediction; ties
    at the cut-off count at their group's average), `rows`, `mean_actual`, `mean_predicted`.

    `spearman` is 0 when either side is constant (e.g. a mean-only baseline): no ranking
    information, the expected correlation under random tie-breaking (scipy would give NaN).
    `top_20pct_value_share` is NaN when the total actual value is not positive (undefined there;
    one undefined figure should not sink the whole evaluation). `total_ratio` is the predicted total
    over the actual total (1.0 = the level is right), NaN when the actual total is not positive.

    Raises ValueError on mismatched lengths, empty input or NaN / infinite values.
    """
    actual = numeric_vector(y_true, "y_true")
    predicted = matching_predictions(prediction, "prediction", len(actual))
    require_finite(actual, "y_true")
    return {
        "mae": float(metrics.mean_absolute_error(actual, predicted)),
        "rmse": float(metrics.root_mean_squared_error(actual, predicted)),
        "spearman": _spearman(actual, predicted),
        "top_20pct_value_share": _value_share(actual, predicted, VALUE_TOP_SHARE),
        "rows": len(actual),
        "mean_actual": float(actual.mean()),
        "mean_predicted": float(predicted.mean()),
        "total_ratio": float(predicted.sum() / actual.sum()) if actual.sum() > 0 else float("nan"),
    }


def calibration_by_decile(y_true: ArrayLike, prediction: ArrayLike) -> list[CalibrationBin]:
    """Mean prediction and mean outcome per decile of the prediction, lowest decile first.

    Works for probabilities (mean outcome = observed positive rate) and for values (mean actual
    value). Rows with equal predictions always share a bin; when ties span decile boundaries, or
    there are fewer than ten distinct predictions, fewer than ten bins come back (each tie group
    goes to the decile holding its middle row, see `CalibrationBin`).

    Raises ValueError on mismatched lengths, empty input or NaN / infinite values.
    """
    actual = numeric_vector(y_true, "y_true")
    predicted = matching_predictions(prediction, "prediction", len(actual))
    require_finite(actual, "y_true")
    rows = len(predicted)

    order = np.argsort(predicted, kind="stable")
    ranked = predicted[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    ends = np.r_[starts[1:], rows]
    # Decile of each tie group's middle row, in integer arithmetic so no boundary rounds the wrong way;
    # (starts + ends) <= 2 * rows - 1, so the decile index stays below 10.
    group_decile = (DECILES * (starts + ends)) // (2 * rows)
    row_decile = np.repeat(group_decile, ends - starts)

    counts = np.bincount(row_decile, minlength=DECILES)
    predicted_sums = np.bincount(row_decile, weights=ranked, minlength=DECILES)
    observed_sums = np.bincount(row_decile, weights=actual[order], minlength=DECILES)
    return [
        CalibrationBin(
            decile=int(index) + 1,
            count=int(counts[index]),
            mean_predicted=float(predicted_sums[index] / counts[index]),
            mean_observed=float(observed_sums[index] / counts[index]),
        )
        for index in np.flatnonzero(counts)
    ]


def cumulative_gains(y_true: ArrayLike, score: ArrayLike, points: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative gains curve: share of customers targeted (highest score first) vs share captured.

    Returns `points + 1` evenly spaced shares targeted, 0, 1/points, ..., 1 (so with the default
    100 the entry at index 10 is the top 10%), and the share of all positives (0/1 labels) or of the
    total actual value (CLV) those customers hold. Ties in the score are counted at their average, so
    the curve is a straight line across each tie group.

    Raises ValueError on mismatched lengths, empty input, NaN / infinite values, `points` < 1, or a
    total of `y_true` that is not positive (no positives / no value: nothing to capture).
    """
    if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or points < 1:
        raise ValueError(f"points must be a positive integer, got {points!r}")
    actual = numeric_vector(y_true, "y_true")
    scores = matching_predictions(score, "score", len(actual))
    require_finite(actual, "y_true")
    total = float(actual.sum())
    if not total > 0.0:
        raise ValueError(
            f"y_true sums to {total:g}: cumulative gains need a positive total (some positives, or some value) to share out"
        )
    targeted = np.linspace(0.0, 1.0, int(points) + 1)
    return targeted, np.asarray(_captured_share(actual, scores, targeted, total=total))


def _gains_corners(value: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Corners of the gains curve: rows targeted and value captured after each tie group, from (0, 0).

    A tie group is targeted all or nothing, so only its end is a corner; the straight line between
    corners is the expected capture when the tie is broken at random.
    """
    order = np.argsort(-score, kind="stable")
    ranked = score[order]
    captured = np.cumsum(value[order])
    ends = np.r_[np.flatnonzero(ranked[1:] != ranked[:-1]), len(score) - 1]
    return np.r_[0.0, ends + 1.0], np.r_[0.0, captured[ends]]


def _captured_share(value: np.ndarray, score: np.ndarray, targeted: float | np.ndarray, total: float | None = None) -> float | np.ndarray:
    """Share of the total `value` held by the top `targeted` share of rows by `score` (scalar or array)."""
    rows, captured = _gains_corners(value, score)
    total = float(value.sum()) if total is None else total
    return np.interp(np.asarray(targeted) * len(score), rows, captured) / total


def _value_share(actual: np.ndarray, predicted: np.ndarray, targeted: float) -> float:
    total = float(actual.sum())
    if not total > 0.0:
        return math.nan
    return float(_captured_share(actual, predicted, targeted, total=total))


def _spearman(actual: np.ndarray, predicted: np.ndarray) -> float:
    if _is_constant(actual) or _is_constant(predicted):
        # scipy says NaN (with a warning). A constant side carries no ranking information: with the
        # tie broken at random the expected rank correlation is 0, as a constant score's ROC AUC is
        # 0.5. And 0 keeps the promotion rule sound: NaN compares False, so a constant challenger
        # would pass "challenger <= baseline" checks.
        return 0.0
    return float(stats.spearmanr(actual, predicted).statistic)


def _is_constant(array: np.ndarray) -> bool:
    return bool(array.min() == array.max())


__all__ = ["CalibrationBin", "calibration_by_decile", "classifier_metrics", "cumulative_gains", "regression_metrics"]
