"""The buy-till-you-die baseline from a customer's purchase features: BG/NBD for how many orders
are still to come, Gamma-Gamma for what each order is worth, and MBG/NBD for whether the customer
is still alive (it lets a one-time buyer drop out, where BG/NBD holds every one alive)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from ml.buy_till_you_die import BetaGeometricNBD, GammaGamma, ModifiedBetaGeometricNBD, fit_bg_nbd, fit_gamma_gamma, fit_mbg_nbd

BTYD_INPUTS = ("orders_lifetime", "days_since_first_order", "days_since_last_order", "net_revenue_usd_lifetime")


@dataclass(frozen=True)
class PurchaseHistory:
    """BG/NBD's summary of each customer in days: repeat orders, age of the last repeat, age."""

    bought: np.ndarray
    frequency: np.ndarray
    recency: np.ndarray
    age: np.ndarray
    mean_order_value: np.ndarray


def purchase_history(frame: pl.DataFrame) -> PurchaseHistory:
    orders, since_first, since_last, revenue = (frame[name].cast(pl.Float64).fill_null(0.0).fill_nan(0.0).to_numpy()
                                                for name in BTYD_INPUTS)
    bought = orders >= 1
    frequency = np.where(bought, orders - 1, 0.0)
    age = np.where(bought, np.maximum(since_first, 0.0), 0.0)
    # The latest order may be a cancelled one or predate no repeat at all: recency only counts repeats.
    recency = np.where(frequency > 0, np.clip(since_first - since_last, 0.0, age), 0.0)
    mean_value = np.where(bought, revenue / np.maximum(orders, 1.0), 0.0)
    return PurchaseHistory(bought, frequency, recency, age, mean_value)


@dataclass(frozen=True)
class BuyTillYouDieBaseline:
    bg_nbd: BetaGeometricNBD
    gamma_gamma: GammaGamma
    mbg_nbd: ModifiedBetaGeometricNBD | None = None
    """P(alive)'s model; None in baselines saved before it, which fall back to BG/NBD."""

    def expected_value(self, frame: pl.DataFrame, horizon_days: float) -> np.ndarray:
        """Expected net revenue over the horizon; 0 for customers who never bought (BG/NBD starts at
        the first purchase)."""
        history = purchase_history(frame)
        value = np.zeros(frame.height)
        b = history.bought
        purchases = self.bg_nbd.expected_purchases(horizon_days, history.frequency[b], history.recency[b], history.age[b])
        # Orders fully refunded leave no positive spend to learn from: such a customer is valued at
        # the population's mean order value, as one without repeat orders is.
        spend_known = history.mean_order_value[b] > 0
        spend = self.gamma_gamma.conditional_expected_spend(np.where(spend_known, history.frequency[b], 0.0),
                                                            np.where(spend_known, history.mean_order_value[b], 0.0))
        value[b] = purchases * spend
        _require_finite(value, "expected value", self)
        return value

    def probability_alive(self, frame: pl.DataFrame) -> np.ndarray:
        """P(alive) for customers who bought, one-time buyers included (MBG/NBD); NaN for those who never did."""
        history = purchase_history(frame)
        alive = np.full(frame.height, np.nan)
        b = history.bought
        alive[b] = (self.mbg_nbd or self.bg_nbd).probability_alive(history.frequency[b], history.recency[b], history.age[b])
        _require_finite(alive[b], "P(alive)", self)
        return alive

    def probability_no_purchase(self, frame: pl.DataFrame, horizon_days: float) -> np.ndarray:
        """MBG/NBD's P(no purchase in the next `horizon_days`) for customers who bought; NaN for
        the others, and for a baseline saved before MBG/NBD."""
        history = purchase_history(frame)
        quiet = np.full(frame.height, np.nan)
        b = history.bought
        if self.mbg_nbd is not None:
            quiet[b] = self.mbg_nbd.probability_no_purchase(horizon_days, history.frequency[b], history.recency[b], history.age[b])
            _require_finite(quiet[b], "P(no purchase)", self)
        return quiet

    def to_dict(self) -> dict:
        document = {"bg_nbd": self.bg_nbd.__dict__, "gamma_gamma": self.gamma_gamma.__dict__, "time_unit": "days"}
        return document | ({"mbg_nbd": self.mbg_nbd.__dict__} if self.mbg_nbd else {})

    @classmethod
    def from_dict(cls, document: dict) -> BuyTillYouDieBaseline:
        mbg_nbd = ModifiedBetaGeometricNBD(**document["mbg_nbd"]) if "mbg_nbd" in document else None
        return cls(BetaGeometricNBD(**document["bg_nbd"]), GammaGamma(**document["gamma_gamma"]), mbg_nbd)


class DegenerateFitError(ValueError):
    """The fitted parameters are so extreme that the closed forms overflow for some customers."""


def _require_finite(values: np.ndarray, what: str, baseline: BuyTillYouDieBaseline) -> None:
    bad = int((~np.isfinite(values)).sum())
    if bad:
        raise DegenerateFitError(f"BG/NBD + Gamma-Gamma gives no finite {what} for {bad:,} customers: the fit is degenerate "
                                 f"({baseline.bg_nbd}, {baseline.gamma_gamma})")


def fit_btyd_baseline(frame: pl.DataFrame) -> BuyTillYouDieBaseline:
    """Fit both models on the customers of `frame` who bought (no labels needed)."""
    history = purchase_history(frame)
    b = history.bought
    if not b.any():
        raise ValueError("no customer in the rows has bought: BG/NBD has nothing to fit")
    bg_nbd = fit_bg_nbd(history.frequency[b], history.recency[b], history.age[b])
    repeat = b & (history.frequency > 0) & (history.mean_order_value > 0)
    gamma_gamma = fit_gamma_gamma(history.frequency[repeat], history.mean_order_value[repeat])
    mbg_nbd = fit_mbg_nbd(history.frequency[b], history.recency[b], history.age[b])
    return BuyTillYouDieBaseline(bg_nbd, gamma_gamma, mbg_nbd)
