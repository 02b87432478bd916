"""The numerics the buy-till-you-die models share: RFM summaries checked, identical customers
collapsed so a fit costs O(distinct rows), maximum likelihood over log-parameters, and a Gauss
hypergeometric function that does not fail where scipy's does.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import minimize
from scipy.special import hyp2f1

# Fitting happens over log-parameters; these bounds only stop the optimiser from wandering off to
# values whose exp() overflows, and are far outside any sensible fit in any time unit.
_LOG_BOUND = 30.0


def rfm_arrays(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Broadcast and validate an RFM summary; raise ValueError on impossible customers."""
    x, t_x, age = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (frequency, recency, T)))
    if not (np.isfinite(x).all() and np.isfinite(t_x).all() and np.isfinite(age).all()):
        raise ValueError("frequency, recency and T must be finite numbers (no NaN or inf)")
    if (x < 0).any() or (x != np.floor(x)).any():
        raise ValueError("frequency must be a whole number of repeat purchases, >= 0")
    if (t_x < 0).any():
        raise ValueError("recency must be >= 0 (time of the last purchase since the first one)")
    if (t_x > age).any():
        raise ValueError("recency must not exceed T: the last purchase cannot come after the end of observation")
    if ((x == 0) & (t_x > 0)).any():
        raise ValueError("recency must be 0 for customers with frequency 0 (no repeat purchase to date it)")
    return x, t_x, age


# A column as (distinct values, index of each element into them): log-gamma, beta and log terms that
# depend on one column are then evaluated once per distinct value rather than once per customer.
ByValue = tuple[np.ndarray, np.ndarray]


def by_value(column: np.ndarray) -> ByValue:
    values, index = np.unique(column, return_inverse=True)
    return values, index.reshape(column.shape)


def aggregate_rows(*columns: np.ndarray) -> tuple[list[ByValue], np.ndarray]:
    """Collapse identical rows into distinct rows with counts, so a fit costs O(distinct rows)."""
    # Sorting rows as opaque byte strings is ~4x faster than np.unique(axis=0); + 0.0 folds -0.0 into 0.0.
    rows = np.ascontiguousarray(np.column_stack([c.ravel() for c in columns]) + 0.0)
    keys, counts = np.unique(rows.view(np.dtype((np.void, rows.itemsize * rows.shape[1]))).ravel(), return_counts=True)
    distinct = keys.view(float).reshape(-1, rows.shape[1])
    return [by_value(column) for column in distinct.T], counts.astype(float)


def check_positive(**params: float) -> None:
    for name, value in params.items():
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def maximise_likelihood(neg_mean_ll, start: np.ndarray) -> np.ndarray:
    """Minimise a negative mean log-likelihood over log-parameters; return the parameters."""
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(start)
    result = minimize(neg_mean_ll, np.log(start), method="L-BFGS-B", bounds=bounds)
    # L-BFGS-B on finite-difference gradients can stop on a flat ridge; Nelder-Mead then polishes.
    if not result.success:
        result = minimize(neg_mean_ll, result.x, method="Nelder-Mead", bounds=bounds,
                          options={"xatol": 1e-8, "fatol": 1e-12, "maxiter": 4000})
    if not np.isfinite(result.fun):
        raise RuntimeError(f"maximum-likelihood fit failed: {result.message}")
    return np.exp(result.x)


def hyp2f1_robust(a: float, b: float, c: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Gauss 2F1, falling back to the plain power series where scipy's returns nan or inf.

    scipy fails when c - a - b is a large integer (here: r - a an integer and a heavy buyer). Then c
    is large, so the series' term ratio (a+k)(b+k)z / ((c+k)(k+1)) is tiny and a few dozen terms do.
    Where the true value overflows a float the result stays inf or nan: see `log_hyp2f1_positive`.
    """
    c, z = np.broadcast_arrays(np.asarray(c, dtype=float), np.asarray(z, dtype=float))
    value = np.array(hyp2f1(a, b, c, z), dtype=float)
    bad = ~np.isfinite(value)
    if bad.any():
        cb, zb = c[bad], z[bad]
        term, total = np.ones_like(zb), np.ones_like(zb)
        for k in range(100_000):
            term = term * (a + k) * (b + k) / ((cb + k) * (k + 1)) * zb
            total += term
            # A sum that overflowed will not come back: stop rather than run all the terms.
            if ((np.abs(term) <= 1e-17 * np.abs(total)) | ~np.isfinite(total)).all():
                break
        value[bad] = total
    return value


def log_hyp2f1_positive(a: np.ndarray, b: np.ndarray, c: np.ndarray, z: np.ndarray) -> np.ndarray:
    """log 2F1(a, b; c; z) for a, b, c > 0 and 0 <= z < 1, where 2F1 itself may overflow a float.

    Every term of the power series is then positive, so the series is summed in log space. The term
    ratio (a+k)(b+k)z / ((c+k)(k+1)) rises above 1 while k is small against a*b*z/c and falls towards
    z after, so the sum stops once the ratio is below 1 and the term below 1e-17 of the total.
    """
    shape = np.broadcast(a, b, c, z).shape
    a, b, c, z = (np.atleast_1d(v).astype(float) for v in np.broadcast_arrays(a, b, c, z))
    if not ((a > 0).all() and (b > 0).all() and (c > 0).all() and (z >= 0).all() and (z < 1).all()):
        raise ValueError("log_hyp2f1_positive needs a, b, c > 0 and 0 <= z < 1")
    log_z = np.log(np.where(z > 0, z, 1.0))
    log_term, log_total = np.zeros(a.shape), np.zeros(a.shape)
    active = z > 0
    k = 0
    while active.any():
        ia = np.flatnonzero(active)
        log_ratio = np.log((a[ia] + k) * (b[ia] + k) / ((c[ia] + k) * (k + 1))) + log_z[ia]
        log_term[ia] += log_ratio
        log_total[ia] = np.logaddexp(log_total[ia], log_term[ia])
        active[ia] = (log_ratio >= 0) | (log_term[ia] - log_total[ia] > -39.0)
        k += 1
    return log_total.reshape(shape)
