"""How well a score ranks customers by incremental response, on held-out customers of an experiment.

Customers are ranked by the score, highest first. After the top k of n, with n_t treated and n_c control
customers among them whose outcomes sum to Y_t and Y_c:

- the Qini curve (Radcliffe 2007) is Q(k) = Y_t - Y_c * n_t / n_c: the incremental outcome of the
  treated customers in the top k, with control's outcome scaled up to their count;
- the uplift curve is U(k) = (Y_t / n_t - Y_c / n_c) * k: the difference in means times the customers
  targeted.

Until the first control (or treated) customer is reached the missing arm counts as 0 (as in
scikit-uplift). Customers with equal scores are one step: the curves are evaluated only after each
group of ties, so the order within a tie cannot move them, and a constant score gives the random line.

Normalization, exactly: the x-axis is the fraction k / n, from 0 to 1; the y-axis is in outcome units
(e.g. dollars), not divided by anything. The Qini coefficient is the trapezoid area between Q and
the random line from (0, 0) to (1, Q(n)), so in outcome units; the AUUC is the trapezoid area under U.
Both scale with the sample, so compare scores on the same customers only, e.g. a model's coefficient
over the oracle's (the ranking by the true effects, when they are known): a unit-free share of the best.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class GainCurve:
    """A curve after each group of tied scores, starting at (0, 0)."""

    fraction: np.ndarray
    """Share of customers targeted, 0 to 1."""
    gain: np.ndarray
    """Incremental outcome of targeting them, in outcome units."""


@dataclass(frozen=True)
class QiniComparison:
    """A model's Qini coefficient against the oracle's on the same customers."""

    model: float
    oracle: float
    ratio: float | None
    """model / oracle; None when the oracle's coefficient is not positive (nothing to rank)."""


def qini_curve(score: npt.ArrayLike, treated: npt.ArrayLike, outcome: npt.ArrayLike) -> GainCurve:
    """The Qini curve of customers ranked by `score` (higher first); `treated` is 1/True for treated customers."""
    n_t, n_c, y_t, y_c = _cumulative(score, treated, outcome)
    scale = np.divide(n_t, n_c, out=np.zeros_like(n_t), where=n_c > 0)
    return _curve(n_t + n_c, y_t - y_c * scale)


def uplift_curve(score: npt.ArrayLike, treated: npt.ArrayLike, outcome: npt.ArrayLike) -> GainCurve:
    """The uplift curve of customers ranked by `score`: difference in means times customers targeted."""
    n_t, n_c, y_t, y_c = _cumulative(score, treated, outcome)
    mean_t = np.divide(y_t, n_t, out=np.zeros_like(y_t), where=n_t > 0)
    mean_c = np.divide(y_c, n_c, out=np.zeros_like(y_c), where=n_c > 0)
    return _curve(n_t + n_c, (mean_t - mean_c) * (n_t + n_c))


def qini_coefficient(score: npt.ArrayLike, treated: npt.ArrayLike, outcome: npt.ArrayLike) -> float:
    """Area between the Qini curve and the random line, in outcome units (see the module docstring)."""
    curve = qini_curve(score, treated, outcome)
    return float(np.trapezoid(curve.gain - curve.fraction * curve.gain[-1], curve.fraction))


def area_under_uplift_curve(score: npt.ArrayLike, treated: npt.ArrayLike, outcome: npt.ArrayLike) -> float:
    """AUUC: the area under the uplift curve over the fraction targeted, in outcome units."""
    curve = uplift_curve(score, treated, outcome)
    return float(np.trapezoid(curve.gain, curve.fraction))


def compare_to_oracle(score: npt.ArrayLike, true_effect: npt.ArrayLike, treated: npt.ArrayLike, outcome: npt.ArrayLike) -> QiniComparison:
    """The Qini coefficient of `score` and of the ranking by `true_effect`, on the same outcomes."""
    model, oracle = qini_coefficient(score, treated, outcome), qini_coefficient(true_effect, treated, outcome)
    return QiniComparison(model, oracle, model / oracle if oracle > 0 else None)


def _cumulative(score: npt.ArrayLike, treated: npt.ArrayLike, outcome: npt.ArrayLike) -> tuple[np.ndarray, ...]:
    """Counts and outcome sums of each arm in the top k, at the last customer of each group of tied scores."""
    s = np.asarray(score, dtype=np.float64).ravel()
    t = np.asarray(treated).ravel().astype(bool)
    y = np.asarray(outcome, dtype=np.float64).ravel()
    if not s.size == t.size == y.size:
        raise ValueError(f"score, treated and outcome differ in length ({s.size}, {t.size}, {y.size})")
    if not (np.isfinite(s).all() and np.isfinite(y).all()):
        raise ValueError("scores and outcomes must be finite: drop or fill missing values first")
    if t.all() or not t.any():
        raise ValueError(f"a Qini curve needs treated and control customers; got {int(t.sum())} treated of {t.size}")
    order = np.argsort(-s, kind="stable")
    s, t, y = s[order], t[order], y[order]
    last_of_tie = np.flatnonzero(np.r_[s[1:] != s[:-1], True])
    n_t = np.cumsum(t)[last_of_tie].astype(np.float64)
    n_c = (last_of_tie + 1) - n_t
    return n_t, n_c, np.cumsum(y * t)[last_of_tie], np.cumsum(y * ~t)[last_of_tie]


def _curve(targeted: np.ndarray, gain: np.ndarray) -> GainCurve:
    return GainCurve(np.r_[0.0, targeted / targeted[-1]], np.r_[0.0, gain])
