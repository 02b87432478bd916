"""The level of predicted customer value: who is worth more is the model's call, how much they are
worth in total is the forecast's.

A gradient-boosted regressor ranks customers well, but its total comes from the windows it learnt
from: trees do not extrapolate to customers older than any it saw, and what customers spend drifts.
Its holdout factor (`GradientBoostingModel.level`) is measured a whole label window before the date
it scores, so a drifting shop sees totals 20-40% off. BG/NBD + Gamma-Gamma, fitted on the same
customers' own histories at the same date, forecasts the total from how each of them has bought
lately. With `scoring.value_level: forecast` the model's values are scaled to sum to that forecast;
`holdout` keeps the holdout factor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

VALUE_LEVELS = ("forecast", "holdout")


@dataclass(frozen=True)
class ValueLevel:
    """What sets a value model's total on one population: the forecast's `total`, or (None) the
    model's holdout factor, with the reason when the setting asked for the forecast."""

    setting: str
    total: float | None
    fallback_reason: str | None = None

    def describe(self) -> str:
        if self.total is not None:
            return f"total set by the BG/NBD + Gamma-Gamma forecast of the same customers ({self.total:,.0f} USD)"
        if self.fallback_reason:
            return f"total set by the holdout factor ({self.fallback_reason})"
        return "total set by the holdout factor"


def value_level(setting: str, forecast: np.ndarray | None, unavailable: str | None = None) -> ValueLevel:
    """The level for a population whose BG/NBD + Gamma-Gamma forecast is `forecast` (one value per
    customer, all of them, or None with the reason in `unavailable` when it could not be fitted)."""
    if setting == "holdout":
        return ValueLevel(setting, None)
    if forecast is None or forecast.size == 0:
        return ValueLevel(setting, None, unavailable or "no forecast for these customers")
    if not np.isfinite(forecast).all():
        return ValueLevel(setting, None, "the forecast is undefined for some customers")
    total = float(forecast.sum())
    if total <= 0:
        return ValueLevel(setting, None, "the forecast total is zero")
    return ValueLevel(setting, total)
