"""The simulated calendar: unexported history, the export window, and the unexported future."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

SECONDS_PER_DAY = 86_400
# Two years of history let customers acquired before the window arrive with a purchase
# record, a churn state and a CRM history of their own.
HISTORY_DAYS = 730
# A year after the last extract is simulated (never exported) so predictions made at the
# end of the window can be scored against what happened next.
FUTURE_DAYS = 365
_EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class Timeline:
    """Day arithmetic for one run; simulation day 0 is the first day of history."""

    end_date: dt.date
    days: int

    @property
    def window_start(self) -> dt.date:
        """First extract date."""
        return self.end_date - dt.timedelta(days=self.days - 1)

    @property
    def sim_start(self) -> dt.date:
        """First simulated day (start of the unexported history)."""
        return self.window_start - dt.timedelta(days=HISTORY_DAYS)

    @property
    def total_days(self) -> int:
        """Simulated days: history, window and future."""
        return HISTORY_DAYS + self.days + FUTURE_DAYS

    @property
    def first_window_day(self) -> int:
        """Simulation day index of the first extract date."""
        return HISTORY_DAYS

    @property
    def last_window_day(self) -> int:
        """Simulation day index of the last extract date."""
        return HISTORY_DAYS + self.days - 1

    @property
    def sim_start_epoch(self) -> int:
        """Unix seconds at midnight UTC of simulation day 0."""
        return (self.sim_start - _EPOCH).days * SECONDS_PER_DAY

    @property
    def window_start_epoch(self) -> int:
        """Unix seconds at midnight UTC of the first extract date."""
        return self.sim_start_epoch + HISTORY_DAYS * SECONDS_PER_DAY

    @property
    def window_end_epoch(self) -> int:
        """Unix seconds at the midnight that ends the last extract date (exclusive)."""
        return self.window_start_epoch + self.days * SECONDS_PER_DAY

    @property
    def future_end_epoch(self) -> int:
        """Unix seconds at the end of the simulated future (exclusive)."""
        return self.sim_start_epoch + self.total_days * SECONDS_PER_DAY

    def day_start_epoch(self, day: np.ndarray | int) -> np.ndarray:
        """Unix seconds at midnight UTC of simulation day(s)."""
        return self.sim_start_epoch + np.asarray(day, dtype=np.int64) * SECONDS_PER_DAY

    def window_offset(self, seconds: np.ndarray | int) -> np.ndarray:
        """Zero-based extract-day index of each timestamp (negative before the window)."""
        return (np.asarray(seconds, dtype=np.int64) - self.window_start_epoch) // SECONDS_PER_DAY

    def window_date(self, offset: int) -> dt.date:
        """The extract date of a window offset."""
        return self.window_start + dt.timedelta(days=int(offset))

    def sim_day_of(self, seconds: np.ndarray | int) -> np.ndarray:
        """Simulation day index of each timestamp."""
        return (np.asarray(seconds, dtype=np.int64) - self.sim_start_epoch) // SECONDS_PER_DAY
