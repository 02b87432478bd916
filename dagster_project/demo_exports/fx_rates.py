"""Daily exchange rates as random walks, and their CSV rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from dagster_project.demo_exports.delivery import DeliverySchedule
from dagster_project.demo_exports.timeline import Timeline

CURRENCIES = ("USD", "EUR", "GBP", "CAD")
_START_USD_PER_UNIT = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27, "CAD": 0.74}
_DAILY_VOLATILITY = 0.004
FX_COLUMNS = ["date", "currency", "usd_per_unit"]


@dataclass(frozen=True)
class FxRates:
    """USD per unit of each currency for every simulation day, rounded as published."""

    usd_per_unit: dict[str, np.ndarray]

    def rate_on(self, currency: np.ndarray, day: np.ndarray) -> np.ndarray:
        """USD per unit for each (currency, simulation day) pair."""
        result = np.ones(len(currency))
        for code, series in self.usd_per_unit.items():
            rows = currency == code
            result[rows] = series[day[rows]]
        return result


def simulate_fx_rates(timeline: Timeline, rng: np.random.Generator) -> FxRates:
    """A geometric random walk per currency over history, window and future."""
    rates = {}
    for code in CURRENCIES:
        steps = rng.normal(0.0, 0.0 if code == "USD" else _DAILY_VOLATILITY, size=timeline.total_days)
        rates[code] = np.round(_START_USD_PER_UNIT[code] * np.exp(np.cumsum(steps)), 6)
    return FxRates(rates)


def as_known_to_the_platform(fx: FxRates, timeline: Timeline, schedule: DeliverySchedule) -> FxRates:
    """Rates the platform will use: on a day whose file is missing, the latest earlier rate."""
    rates = {}
    for code, series in fx.usd_per_unit.items():
        series = series.copy()
        for offset in range(1, timeline.days):
            if not schedule.is_delivered("fx_rates", offset):
                day = timeline.first_window_day + offset
                series[day] = series[day - 1]
        rates[code] = series
    return FxRates(rates)


def fx_rate_rows(fx: FxRates, timeline: Timeline) -> pl.DataFrame:
    """One row per currency per extract day, with the extract offset each row belongs to."""
    offsets = np.arange(timeline.days)
    days = timeline.first_window_day + offsets
    frames = [
        pl.DataFrame({
            "extract_offset": offsets,
            "date": [timeline.window_date(int(o)).isoformat() for o in offsets],
            "currency": code,
            "usd_per_unit": [f"{rate:.6f}" for rate in fx.usd_per_unit[code][days]],
        })
        for code in CURRENCIES
    ]
    return pl.concat(frames).sort("extract_offset", maintain_order=True)
