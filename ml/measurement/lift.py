"""One treatment arm against control on one metric: the difference in means by Welch's t.

Welch's test does not assume equal variances, which a treatment that changes who buys (and so the
spread of revenue) breaks. With a few thousand customers per arm the t interval holds even for
skewed revenue; see tests/ml/measurement/test_calibration.py for the measured coverage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from scipy import stats


@dataclass(frozen=True)
class Lift:
    """Treatment minus control for one metric. Intervals and p-value are None when not estimable (see `note`)."""

    control_mean: float | None
    treatment_mean: float | None
    control_n: int
    treatment_n: int
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    relative_lift: float | None
    """difference / control mean; None when the control mean is 0."""
    relative_ci_low: float | None
    relative_ci_high: float | None
    confidence: float
    note: str | None = None


def compare_arms(control: npt.ArrayLike, treatment: npt.ArrayLike, *, confidence: float = 0.95) -> Lift:
    """Means, difference with its `confidence` interval and two-sided p-value (Welch's t), and the
    relative lift with a delta-method interval, from per-customer outcomes (0/1 for binary metrics).

    Too few customers (under 2 in an arm) or no variance at all give a Lift with the means, the counts
    and a `note`, not an exception. Missing outcomes are refused: fill them (0 revenue) upstream."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    y_c, y_t = _outcomes(control, "control"), _outcomes(treatment, "treatment")
    n_c, n_t = y_c.size, y_t.size
    mean_c = float(y_c.mean()) if n_c else None
    mean_t = float(y_t.mean()) if n_t else None
    difference = mean_t - mean_c if mean_c is not None and mean_t is not None else None
    relative = difference / mean_c if difference is not None and mean_c else None
    unestimable = Lift(mean_c, mean_t, n_c, n_t, difference, None, None, None, relative, None, None, confidence)
    if min(n_c, n_t) < 2:
        return replace(unestimable, note=f"too few customers for an interval (control {n_c}, treatment {n_t}; need 2 per arm)")
    assert mean_c is not None and mean_t is not None and difference is not None
    var_c, var_t = float(y_c.var(ddof=1)), float(y_t.var(ddof=1))
    if var_c == 0.0 and var_t == 0.0:
        return replace(unestimable, note="every customer has the same outcome within each arm: no variance to test against")

    se2_c, se2_t = var_c / n_c, var_t / n_t
    se = math.sqrt(se2_c + se2_t)
    # Welch-Satterthwaite degrees of freedom.
    df = (se2_c + se2_t) ** 2 / (se2_c**2 / (n_c - 1) + se2_t**2 / (n_t - 1))
    t_crit = float(stats.t.ppf(0.5 + confidence / 2, df))
    p_value = float(2 * stats.t.sf(abs(difference) / se, df))
    rel_low = rel_high = None
    if relative is not None:
        # Delta method for mean_t / mean_c - 1, the arms independent; a large-sample normal interval.
        se_rel = math.sqrt(se2_t / mean_c**2 + mean_t**2 * se2_c / mean_c**4)
        z_crit = float(stats.norm.ppf(0.5 + confidence / 2))
        rel_low, rel_high = relative - z_crit * se_rel, relative + z_crit * se_rel
    note = None if relative is not None else "control mean is 0: no relative lift"
    return Lift(mean_c, mean_t, n_c, n_t, difference, difference - t_crit * se, difference + t_crit * se, p_value,
                relative, rel_low, rel_high, confidence, note)


def compare_ratio_arms(control_numerator: npt.ArrayLike, control_denominator: npt.ArrayLike,
                       treatment_numerator: npt.ArrayLike, treatment_denominator: npt.ArrayLike, *,
                       confidence: float = 0.95) -> Lift:
    """A ratio of sums per arm (average order value: an arm's revenue over its orders) compared
    across arms, from per-customer numerators and denominators.

    A customer's orders are not independent of each other, so the ratio's variance comes from the
    delta method over customers (the unit that was randomized), not from treating orders as the
    sample; intervals are large-sample normal. `control_mean`/`treatment_mean` are the ratios."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    arms = [(_outcomes(control_numerator, "control"), _outcomes(control_denominator, "control")),
            (_outcomes(treatment_numerator, "treatment"), _outcomes(treatment_denominator, "treatment"))]
    for numerator, denominator in arms:
        if numerator.size != denominator.size:
            raise ValueError(f"numerator and denominator differ in length ({numerator.size}, {denominator.size})")
    (n_c, d_c), (n_t, d_t) = arms
    ratio_c = float(n_c.sum() / d_c.sum()) if d_c.sum() > 0 else None
    ratio_t = float(n_t.sum() / d_t.sum()) if d_t.sum() > 0 else None
    difference = ratio_t - ratio_c if ratio_c is not None and ratio_t is not None else None
    relative = difference / ratio_c if difference is not None and ratio_c else None
    unestimable = Lift(ratio_c, ratio_t, n_c.size, n_t.size, difference, None, None, None, relative, None, None, confidence)
    if difference is None:
        return replace(unestimable, note="an arm has no denominator (no orders): no ratio to compare")
    if min(n_c.size, n_t.size) < 2 or min(int((d_c > 0).sum()), int((d_t > 0).sum())) < 2:
        return replace(unestimable, note="too few customers with a denominator for an interval (need 2 per arm)")
    assert ratio_c is not None and ratio_t is not None
    se2_c, se2_t = _ratio_variance(n_c, d_c, ratio_c), _ratio_variance(n_t, d_t, ratio_t)
    se = math.sqrt(se2_c + se2_t)
    if se == 0.0:
        return replace(unestimable, note="every customer has the same ratio within each arm: no variance to test against")
    z_crit = float(stats.norm.ppf(0.5 + confidence / 2))
    p_value = float(2 * stats.norm.sf(abs(difference) / se))
    rel_low = rel_high = None
    if relative is not None:
        se_rel = math.sqrt(se2_t / ratio_c**2 + ratio_t**2 * se2_c / ratio_c**4)
        rel_low, rel_high = relative - z_crit * se_rel, relative + z_crit * se_rel
    return Lift(ratio_c, ratio_t, n_c.size, n_t.size, difference, difference - z_crit * se, difference + z_crit * se, p_value,
                relative, rel_low, rel_high, confidence, None)


def _ratio_variance(numerator: np.ndarray, denominator: np.ndarray, ratio: float) -> float:
    """Delta-method variance of sum(numerator) / sum(denominator) over n independent customers."""
    n = numerator.size
    mean_d = float(denominator.mean())
    residual = numerator - ratio * denominator
    return float(residual.var(ddof=1)) / (n * mean_d**2)


def ci_width(lift: Lift) -> float | None:
    """Width of the interval of the difference, or None when there is none."""
    return None if lift.ci_low is None or lift.ci_high is None else lift.ci_high - lift.ci_low


def _outcomes(values: npt.ArrayLike, arm: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).ravel()
    if not np.isfinite(array).all():
        raise ValueError(f"{arm} has {int((~np.isfinite(array)).sum())} missing or infinite outcomes")
    return array
