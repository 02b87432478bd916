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


def ci_width(lift: Lift) -> float | None:
    """Width of the interval of the difference, or None when there is none."""
    return None if lift.ci_low is None or lift.ci_high is None else lift.ci_high - lift.ci_low


def _outcomes(values: npt.ArrayLike, arm: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).ravel()
    if not np.isfinite(array).all():
        raise ValueError(f"{arm} has {int((~np.isfinite(array)).sum())} missing or infinite outcomes")
    return array
