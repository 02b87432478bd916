"""PNG charts of an out-of-time evaluation: ROC, calibration, cumulative gains, feature importance.

Each chart is drawn on its own `matplotlib.figure.Figure` with an Agg canvas, never through pyplot:
pyplot keeps global state (the current figure, the selected backend) that is unsafe across threads
and wants a display. Nothing here calls `matplotlib.use`, so importing this module does not change
the backend of a notebook or anything else in the process.

The figures are small (6 x 4 in at 80 dpi, a few tens of KB) because they travel inline, base64
encoded, in Dagster metadata (see `png_markdown`). Curves are computed on all rows but drawn through
at most a few hundred points, so a million customers render as fast as a thousand.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import ArrayLike
from PIL import Image
from sklearn import metrics

from ml.metric_inputs import binary_labels, matching_predictions, numeric_vector, require_finite
from ml.model_evaluation import calibration_by_decile, cumulative_gains

FIGSIZE = (6.0, 4.0)
DPI = 80
# A 480 px wide plot cannot show more detail than this; more points only cost rendering time and bytes.
MAX_CURVE_POINTS = 400
GAINS_POINTS = 200  # shares targeted in steps of 0.5%
LABEL_CHARACTERS = 40


def roc_curves_png(y_true: ArrayLike, scores: Mapping[str, ArrayLike], title: str) -> bytes:
    """ROC curve of each model (e.g. challenger, champion, baseline, oracle) on the same labels.

    The legend gives each model's ROC AUC, computed on every row; the dashed diagonal is a random
    ranking. Scores need only rank (probabilities, logits or decision values all work).
    Raises ValueError as `classifier_metrics` does for bad labels or scores, or when `scores` is empty.
    """
    labels = binary_labels(y_true).astype(np.int8)
    figure, axes = _new_figure(title)
    for name, score in _models(scores):
        values = matching_predictions(score, f"scores[{name!r}]", len(labels))
        fpr, tpr, _ = metrics.roc_curve(labels, values)
        # AUC from the full curve, before thinning it for drawing (same as roc_auc_score, one sort fewer).
        auc = metrics.auc(fpr, tpr)
        fpr, tpr = _thin_curve(fpr, tpr)
        axes.plot(fpr, tpr, linewidth=1.5, label=f"{_short(name)} (AUC {auc:.3f})")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="random")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.01)
    axes.set_xlabel("false positive rate")
    axes.set_ylabel("true positive rate")
    axes.legend(loc="lower right", fontsize=8)
    return _png(figure)


def calibration_png(y_true: ArrayLike, predictions: Mapping[str, ArrayLike], title: str) -> bytes:
    """Reliability diagram: mean prediction vs mean outcome per decile of each model's predictions.

    Works for probabilities (outcome = observed positive rate) and for values such as CLV (outcome =
    mean actual value); a well-calibrated model sits on the dashed identity line.
    Raises ValueError on mismatched lengths, empty input, NaN values, or when `predictions` is empty.
    """
    actual = numeric_vector(y_true, "y_true")
    require_finite(actual, "y_true")
    figure, axes = _new_figure(title)
    low, high = np.inf, -np.inf
    for name, prediction in _models(predictions):
        bins = calibration_by_decile(actual, matching_predictions(prediction, f"predictions[{name!r}]", len(actual)))
        predicted = [bin_.mean_predicted for bin_ in bins]
        observed = [bin_.mean_observed for bin_ in bins]
        axes.plot(predicted, observed, marker="o", markersize=4, linewidth=1.5, label=_short(name))
        low = min(low, *predicted, *observed)
        high = max(high, *predicted, *observed)
    if high == low:  # one bin of one value: give the identity line some length
        low, high = low - 0.5, high + 0.5
    axes.plot([low, high], [low, high], linestyle="--", color="grey", linewidth=1, label="perfectly calibrated")
    axes.set_xlabel("mean predicted (per decile)")
    axes.set_ylabel("mean observed (per decile)")
    axes.legend(loc="upper left", fontsize=8)
    return _png(figure)


def lift_png(y_true: ArrayLike, scores: Mapping[str, ArrayLike], title: str) -> bytes:
    """Cumulative gains curves: share of positives (0/1 labels) or of total value (CLV) captured
    when targeting the top share of customers by each model's score.

    The legend gives what each model's top 10% captures; the dashed diagonal is random targeting.
    Raises ValueError as `cumulative_gains` does, or when `scores` is empty.
    """
    actual = numeric_vector(y_true, "y_true")
    require_finite(actual, "y_true")
    figure, axes = _new_figure(title)
    top_10pct = GAINS_POINTS // 10
    for name, score in _models(scores):
        targeted, captured = cumulative_gains(actual, matching_predictions(score, f"scores[{name!r}]", len(actual)), GAINS_POINTS)
        axes.plot(targeted, captured, linewidth=1.5, label=f"{_short(name)} (top 10% → {captured[top_10pct]:.0%})")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="random")
    axes.set_xlim(0, 1)
    axes.set_xlabel("share of customers targeted (highest score first)")
    axes.set_ylabel("share of positives / value captured")
    axes.legend(loc="lower right", fontsize=8)
    return _png(figure)


def feature_importance_png(names: Sequence[str], importances: Sequence[float], title: str, top: int = 20) -> bytes:
    """Horizontal bars of the `top` most important features, the largest on top.

    Importances are ranked by value, so negative ones (e.g. permutation importance noise) rank last.
    Raises ValueError on mismatched lengths, no features, NaN importances or `top` < 1.
    """
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise ValueError(f"top must be a positive integer, got {top!r}")
    values = numeric_vector(importances, "importances")
    require_finite(values, "importances")
    labels = [str(name) for name in names]
    if len(labels) != len(values):
        raise ValueError(f"length mismatch: {len(labels):,} feature names but {len(values):,} importances")
    # Stable sort on the negated values: equal importances keep the order they were given in.
    shown = np.argsort(-values, kind="stable")[: int(top)]
    height = max(FIGSIZE[1], 1.0 + 0.2 * len(shown))  # keep ~16 px per bar when many are shown
    figure, axes = _new_figure(title, figsize=(FIGSIZE[0], height))
    positions = np.arange(len(shown))
    axes.barh(positions, values[shown], color="tab:blue")
    axes.set_yticks(positions, [_short(labels[index]) for index in shown], fontsize=8)
    axes.invert_yaxis()  # first (largest) bar at the top
    axes.axvline(0, color="black", linewidth=0.8)
    axes.set_xlabel("importance")
    axes.grid(axis="x", alpha=0.3)
    axes.grid(axis="y", visible=False)
    return _png(figure)


def png_markdown(png: bytes, alt: str) -> str:
    """The PNG as an inline Markdown image, `![alt](data:image/png;base64,...)`, which Dagster's
    `MetadataValue.md` renders in the asset's metadata panel."""
    if not png.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError("png_markdown expects PNG bytes (they should start with the PNG signature)")
    # Brackets and newlines in the alt text would end the Markdown image early.
    safe_alt = " ".join(alt.split()).replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    return f"![{safe_alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"


# --- helpers -------------------------------------------------------------------------------------


def _new_figure(title: str, figsize: tuple[float, float] = FIGSIZE) -> tuple[Figure, Axes]:
    figure = Figure(figsize=figsize, dpi=DPI, layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title, fontsize=10)
    axes.grid(alpha=0.3)
    axes.tick_params(labelsize=8)
    return figure, axes


def _png(figure: Figure) -> bytes:
    canvas = FigureCanvasAgg(figure)  # the Agg backend for this figure only: no pyplot, no display
    canvas.draw()
    width, height = canvas.get_width_height()
    image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    # A chart has few colours: a 256-colour palette looks the same and is ~3x smaller than the RGBA
    # PNG savefig writes (a bar chart of 20 long names: 20 KB instead of 55 KB). Pillow is already
    # there as matplotlib's own PNG writer; without text chunks the same chart gives the same bytes.
    buffer = io.BytesIO()
    image.convert("RGB").quantize(colors=256).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _models(scores: Mapping[str, ArrayLike]) -> list[tuple[str, ArrayLike]]:
    if not scores:
        raise ValueError("no models to plot: pass at least one name -> scores entry")
    return list(scores.items())


def _thin_curve(x: np.ndarray, y: np.ndarray, max_points: int = MAX_CURVE_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Keep at most `max_points` points of a curve, evenly spaced along its length on the plot,
    always keeping both ends (so a curve with a long straight stretch loses nothing visible)."""
    if len(x) <= max_points:
        return x, y
    travelled = np.r_[0.0, np.cumsum(np.hypot(np.diff(x), np.diff(y)))]
    kept = np.unique(np.r_[0, np.searchsorted(travelled, np.linspace(0.0, travelled[-1], max_points)), len(x) - 1])
    kept = kept[kept < len(x)]
    return x[kept], y[kept]


def _short(label: object) -> str:
    text = str(label)
    return text if len(text) <= LABEL_CHARACTERS else text[: LABEL_CHARACTERS - 1] + "…"


__all__ = ["calibration_png", "feature_importance_png", "lift_png", "png_markdown", "roc_curves_png"]


def method_comparison_png(values: Mapping[str, float], title: str, xlabel: str) -> bytes:
    """Horizontal bars of one metric per method (recommenders side by side), in the given order."""
    if not values:
        raise ValueError("method_comparison_png needs at least one method")
    names = list(values)
    figure = Figure(figsize=FIGSIZE, dpi=DPI)
    axes = figure.add_subplot()
    axes.barh(range(len(names)), [float(values[n]) for n in names], color="#4c72b0")
    axes.set_yticks(range(len(names)), [n[:LABEL_CHARACTERS] for n in names])
    axes.invert_yaxis()
    axes.set_xlabel(xlabel)
    axes.set_title(title)
    figure.tight_layout()
    return _png(figure)


def relative_lift_png(estimates: Mapping[str, tuple[float, float, float]], title: str) -> bytes:
    """A forest plot: per row (e.g. `discount_15: conversion`), the relative lift over control and its
    interval, as (estimate, low, high) fractions; a line marks no effect."""
    if not estimates:
        raise ValueError("relative_lift_png needs at least one estimate")
    names = list(estimates)
    figure, axes = _new_figure(title, (FIGSIZE[0], max(2.5, 0.45 * len(names) + 1.2)))
    points = np.array([estimates[name] for name in names], dtype=np.float64) * 100
    rows = np.arange(len(names))
    axes.errorbar(points[:, 0], rows, xerr=[points[:, 0] - points[:, 1], points[:, 2] - points[:, 0]], fmt="o",
                  color="#4c72b0", ecolor="#4c72b0", capsize=3)
    axes.axvline(0.0, color="#555555", linewidth=1)
    axes.set_yticks(rows, [_short(name) for name in names])
    axes.invert_yaxis()
    axes.set_xlabel("relative lift over control (%), 95% interval", fontsize=8)
    return _png(figure)
