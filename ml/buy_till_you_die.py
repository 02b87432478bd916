"""Buy-till-you-die customer-lifetime models: BG/NBD for repeat purchases, Gamma-Gamma for spend.

Inputs follow the usual RFM summary: ``frequency`` is the number of repeat purchases (the first
purchase is not counted), ``recency`` the time of the last purchase measured from the first one
(0 without a repeat purchase), and ``T`` the customer's age since the first purchase, all in the
same time unit. ``monetary_value`` is the mean value of the repeat purchases.

References:
    Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way: An Alternative to the
    Pareto/NBD Model", Marketing Science 24(2). Fader, Hardie & Lee (2005), "RFM and CLV: Using
    Iso-Value Curves for Customer Base Analysis", JMR 42(4). Fader & Hardie (2013), "The
    Gamma-Gamma Model of Monetary Value", http://brucehardie.com/notes/025/.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TypeVar

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betaln, expit, gammaln

from ml.likelihood_fitting import (
    ByValue,
    aggregate_rows,
    by_value,
    check_positive,
    hyp2f1_robust,
    log_hyp2f1_positive,
    maximise_likelihood,
    rfm_arrays,
)


@dataclass(frozen=True)
class BetaGeometricNBD:
    """Fitted BG/NBD: purchase rate ~ Gamma(r, alpha), drop-out probability after a purchase ~ Beta(a, b).

    ``alpha`` is in the time unit of the data it was fitted on (rate scale), so predictions must use
    that unit too.
    """

    r: float
    alpha: float
    a: float
    b: float
    # 1 where a customer may also drop out at the first purchase (MBG/NBD).
    _first_purchase_dropout: ClassVar[int] = 0

    def __post_init__(self) -> None:
        check_positive(r=self.r, alpha=self.alpha, a=self.a, b=self.b)

    def _log_likelihoods(self, x: ByValue, t_x: ByValue, age: ByValue) -> np.ndarray:
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        (xv, xi), (tv, ti), (av, ai) = x, t_x, age
        common = (gammaln(r + xv) - gammaln(r) + r * np.log(alpha) + betaln(a, b + xv) - betaln(a, b))[xi]
        drop_odds = np.where(xv > 0, np.log(a) - np.log(b + np.maximum(xv, 1) - 1), -np.inf)[xi]
        power = (r + xv)[xi]
        # Each customer is either still alive at T, or dropped out right after the last purchase;
        # both terms stay in log space because (alpha + T)^(r + x) overflows for heavy buyers.
        return common + np.logaddexp(-power * np.log(alpha + av)[ai], drop_odds - power * np.log(alpha + tv)[ti])

    def log_likelihood(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> float:
        """Total log-likelihood of the customers' (frequency, recency, T) under these parameters."""
        return float(self._log_likelihoods(*(by_value(v) for v in rfm_arrays(frequency, recency, T))).sum())

    def probability_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """P(customer is still active at T | frequency, recency, T); exactly 1 when frequency == 0."""
        x, t_x, age = rfm_arrays(frequency, recency, T)
        # Log-odds of having dropped out, so a huge (r + x) power saturates to 0 instead of inf/inf.
        log_odds_dead = (np.log(self.a) - np.log(self.b + np.maximum(x, 1) - 1)
                         + (self.r + x) * (np.log(self.alpha + age) - np.log(self.alpha + t_x)))
        return np.where(x > 0, expit(-log_odds_dead), 1.0)

    def expected_purchases(self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """Expected number of repeat purchases in (T, T + t] given the history (paper eq. 10)."""
        x, t_x, age = rfm_arrays(frequency, recency, T)
        t = np.asarray(t, dtype=float)
        if not np.isfinite(t).all() or (t < 0).any():
            raise ValueError("the horizon t must be finite and >= 0")
        r, alpha, b = self.r, self.alpha, self.b
        # a == 1 is a removable singularity of the closed form; evaluating just beside it costs ~1e-9.
        a = self.a if abs(self.a - 1.0) > 1e-7 else 1.0 + 1e-7
        # MBG/NBD's drop-out chance at the first purchase shifts b by one: 2F1(r+x, b+x+1; a+b+x; z).
        shift = self._first_purchase_dropout
        z = t / (alpha + age + t)
        # Euler's transformation: (1-z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z) = (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z).
        # The right side keeps the power small for heavy buyers, where the left side's 2F1 overflows.
        log_one_minus_z = np.log(alpha + age) - np.log(alpha + age + t)
        with np.errstate(over="ignore", invalid="ignore"):
            tail = np.exp((a - 1) * log_one_minus_z) * hyp2f1_robust(a + b - 1 - r + shift, a - 1, a + b + x - 1 + shift, z)
        # A tight drop-out prior (a and b in the thousands) overflows the right side instead, while the
        # left side's 2F1 then has only positive terms and sums in log space.
        off = ~np.isfinite(tail) | (tail < 0)
        if off.any():
            x_off, z_off, log_off = (np.broadcast_to(v, off.shape)[off] for v in (x, z, log_one_minus_z))
            tail = np.where(off, 0.0, tail)
            tail[off] = np.exp((r + x_off) * log_off + log_hyp2f1_positive(r + x_off, b + x_off + shift, a + b + x_off - 1 + shift, z_off))
        return (a + b + x - 1 + shift) / (a - 1) * (1 - tail) * self.probability_alive(x, t_x, age)


@dataclass(frozen=True)
class ModifiedBetaGeometricNBD(BetaGeometricNBD):
    """Fitted MBG/NBD (Batislam, Denizel and Filiztekin 2007): as BG/NBD, but a customer may also
    drop out right after the first purchase, so a one-time buyer seen long ago is probably gone
    (BG/NBD holds every one-time buyer alive with probability 1)."""

    _first_purchase_dropout: ClassVar[int] = 1

    def _log_likelihoods(self, x: ByValue, t_x: ByValue, age: ByValue) -> np.ndarray:
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        (xv, xi), (tv, ti), (av, ai) = x, t_x, age
        common = (gammaln(r + xv) - gammaln(r) + r * np.log(alpha) + betaln(a, b + xv + 1) - betaln(a, b))[xi]
        # B(a + 1, b + x) / B(a, b + x + 1) = a / (b + x): the odds of having dropped out after the last purchase.
        drop_odds = (np.log(a) - np.log(b + xv))[xi]
        power = (r + xv)[xi]
        return common + np.logaddexp(-power * np.log(alpha + av)[ai], drop_odds - power * np.log(alpha + tv)[ti])

    def probability_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """P(customer is still active at T | frequency, recency, T), below 1 for one-time buyers too."""
        x, t_x, age = rfm_arrays(frequency, recency, T)
        log_odds_dead = np.log(self.a) - np.log(self.b + x) + (self.r + x) * (np.log(self.alpha + age) - np.log(self.alpha + t_x))
        return expit(-log_odds_dead)

    def probability_no_purchase(self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """P(no purchase in (T, T + t] | history): gone, or alive with a purchase rate (posterior
        Gamma(r + x, alpha + T)) that leaves the window empty."""
        x, t_x, age = rfm_arrays(frequency, recency, T)
        alive = self.probability_alive(x, t_x, age)
        quiet_if_alive = np.exp((self.r + x) * (np.log(self.alpha + age) - np.log(self.alpha + age + np.asarray(t, dtype=float))))
        return 1 - alive + alive * quiet_if_alive


_Process = TypeVar("_Process", bound=BetaGeometricNBD)


def _fit_purchase_process(model: type[_Process], frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> _Process:
    """Maximum-likelihood fit of `model` on an RFM summary (identical customers fitted once, weighted)."""
    x, t_x, age = rfm_arrays(frequency, recency, T)
    if x.size == 0 or not (x > 0).any():
        raise ValueError(f"{model.__name__} needs at least one customer with a repeat purchase (frequency > 0)")
    columns, counts = aggregate_rows(x, t_x, age)
    total = counts.sum()

    def neg_mean_ll(log_params: np.ndarray) -> float:
        return float(-(counts @ model(*np.exp(log_params))._log_likelihoods(*columns)) / total)

    # Start from r = 1 with the population's average purchase rate (mean rate = r / alpha) and a mild
    # drop-out prior, so that the start is in the right scale whatever the time unit.
    rate = max(float(x.sum() / max(age.sum(), 1e-12)), 1e-12)
    return model(*(float(v) for v in maximise_likelihood(neg_mean_ll, np.array([1.0, 1.0 / rate, 1.0, 3.0]))))


def fit_bg_nbd(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> BetaGeometricNBD:
    """Maximum-likelihood BG/NBD fit on an RFM summary (identical customers are fitted once, weighted)."""
    return _fit_purchase_process(BetaGeometricNBD, frequency, recency, T)


def fit_mbg_nbd(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> ModifiedBetaGeometricNBD:
    """Maximum-likelihood MBG/NBD fit on an RFM summary."""
    return _fit_purchase_process(ModifiedBetaGeometricNBD, frequency, recency, T)


def _spend(frequency: ArrayLike, monetary_value: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validate frequency and mean spend; the spend of customers without repeat purchases is ignored (set to 0)."""
    x, m = np.broadcast_arrays(np.asarray(frequency, dtype=float), np.asarray(monetary_value, dtype=float))
    if not np.isfinite(x).all() or (x < 0).any() or (x != np.floor(x)).any():
        raise ValueError("frequency must be a whole number of repeat purchases, >= 0")
    repeat = x > 0
    if not (np.isfinite(m[repeat]).all() and (m[repeat] > 0).all()):
        raise ValueError("monetary_value must be a positive finite mean spend for every customer with frequency > 0")
    return x, np.where(repeat, m, 0.0)


@dataclass(frozen=True)
class GammaGamma:
    """Fitted Gamma-Gamma spend model: spend ~ Gamma(p, nu) per transaction, nu ~ Gamma(q, gamma) across customers.

    Assumes a customer's mean spend is independent of their purchase frequency; check that correlation first.
    """

    p: float
    q: float
    gamma: float

    def __post_init__(self) -> None:
        check_positive(p=self.p, q=self.q, gamma=self.gamma)

    def _log_likelihoods(self, x: ByValue, m: ByValue) -> np.ndarray:
        p, q, g = self.p, self.q, self.gamma
        (xv, xi), (mv, mi) = x, m
        x_row, m_row, px = xv[xi], mv[mi], (p * xv)[xi]
        # Density of the observed mean of x Gamma(p, nu) spends, with nu ~ Gamma(q, gamma) integrated out.
        return ((gammaln(p * xv + q) - gammaln(p * xv) + p * xv * np.log(xv))[xi] - gammaln(q) + q * np.log(g)
                + (px - 1) * np.log(mv)[mi] - (px + q) * np.log(g + x_row * m_row))

    def conditional_expected_spend(self, frequency: ArrayLike, monetary_value: ArrayLike) -> np.ndarray:
        """E[mean transaction value | frequency, monetary_value]; population mean p*gamma/(q-1) when frequency == 0."""
        if self.q <= 1:
            raise ValueError(f"q = {self.q} <= 1: the population mean spend is infinite, so no expectation exists")
        x, m = _spend(frequency, monetary_value)
        # A weighted average of the population mean and the customer's own mean, weighted by p*x.
        return self.p * (self.gamma + x * m) / (self.p * x + self.q - 1)


def fit_gamma_gamma(frequency: ArrayLike, monetary_value: ArrayLike) -> GammaGamma:
    """Maximum-likelihood Gamma-Gamma fit on the customers with frequency > 0 (the others carry no spend data)."""
    x, m = _spend(frequency, monetary_value)
    repeat = x > 0
    if not repeat.any():
        raise ValueError("Gamma-Gamma needs at least one customer with a repeat purchase (frequency > 0)")
    columns, counts = aggregate_rows(x[repeat], m[repeat])
    total = counts.sum()

    def neg_mean_ll(log_params: np.ndarray) -> float:
        return float(-(counts @ GammaGamma(*np.exp(log_params))._log_likelihoods(*columns)) / total)

    # p = 1, q = 2 puts the prior mean spend p*gamma/(q-1) at the observed mean when gamma = mean spend.
    start = np.array([1.0, 2.0, float(m[repeat].mean())])
    return GammaGamma(*(float(v) for v in maximise_likelihood(neg_mean_ll, start)))


def expected_revenue(bg_nbd: BetaGeometricNBD, gamma_gamma: GammaGamma, horizon: ArrayLike, frequency: ArrayLike,
                     recency: ArrayLike, T: ArrayLike, monetary_value: ArrayLike) -> np.ndarray:
    """Undiscounted expected revenue in (T, T + horizon]: expected purchases times expected spend per purchase."""
    return (bg_nbd.expected_purchases(horizon, frequency, recency, T)
            * gamma_gamma.conditional_expected_spend(frequency, monetary_value))
