"""Latent people: buying, churn, spend, engagement and support parameters, preferences and consent.

Purchases follow the BG/NBD story (a Poisson buyer who may drop out after each purchase),
order values the Gamma-Gamma one, so the ground truth holds the parameters a CLV model
should recover.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from dagster_project.demo_exports.catalog import CATEGORIES
from dagster_project.demo_exports.name_pools import COUNTRIES, COUNTRY_SHARES, CURRENCY_OF_COUNTRY
from dagster_project.demo_exports.timeline import HISTORY_DAYS, SECONDS_PER_DAY, Timeline

# BG/NBD: purchase rate per year lambda ~ Gamma(shape R, rate ALPHA); dropout p ~ Beta(A, B).
BGNBD_R, BGNBD_ALPHA, BGNBD_A, BGNBD_B = 0.9, 0.22, 1.2, 7.0
# Gamma-Gamma (Fader & Hardie): an order value is Gamma(shape SPEND_P, rate nu) with a person's
# rate nu ~ Gamma(shape SPEND_Q, rate SPEND_GAMMA), so the person's mean order is SPEND_P / nu.
SPEND_P, SPEND_Q, SPEND_GAMMA = 6.0, 4.0, 37.5
CHANNELS = ("Email", "SMS", "Phone", "None", "")
LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other", "")
EMAIL_OPT_OUT_SHARE = 0.05
PERSONALIZATION_OPT_OUT_SHARE = 0.02


def _consent_change(acquired_at: np.ndarray, share: float, timeline: Timeline,
                    rng: np.random.Generator) -> np.ndarray:
    """When a person opts out (-1 if never): a third at sign-up, the rest later, all by the end."""
    n = len(acquired_at)
    chosen = rng.random(n) < share
    at_signup = rng.random(n) < 0.3
    later = acquired_at + (rng.random(n) * (timeline.window_end_epoch - acquired_at)).astype(np.int64)
    return np.where(chosen, np.where(at_signup, acquired_at, later), -1)


def _interest_masks(n: int, rng: np.random.Generator) -> np.ndarray:
    """Bit mask of one to three favourite product categories per person."""
    order = np.argsort(rng.random((n, len(CATEGORIES))), axis=1)
    count = rng.choice([1, 2, 3], size=n, p=[0.4, 0.4, 0.2])
    masks = np.zeros(n, dtype=np.int64)
    for rank in range(3):
        masks |= np.where(count > rank, 1 << order[:, rank], 0)
    return masks


def draw_population(n: int, timeline: Timeline, rng: np.random.Generator) -> pl.DataFrame:
    """One row per person with latent parameters, acquisition, preferences and consent."""
    country = rng.choice(np.array(COUNTRIES, dtype=object), size=n, p=COUNTRY_SHARES)
    lam = rng.gamma(BGNBD_R, 1 / BGNBD_ALPHA, size=n)
    p_dropout = rng.beta(BGNBD_A, BGNBD_B, size=n)
    nu = rng.gamma(SPEND_Q, 1 / SPEND_GAMMA, size=n)
    log_rate = np.log(lam + 0.05)
    # Heavy buyers read more mail; the noise keeps engagement a signal, not a copy of lambda.
    affinity = 0.8 * (log_rate - log_rate.mean()) / (log_rate.std() + 1e-9) + 0.7 * rng.standard_normal(n)
    engagement = 1 / (1 + np.exp(-(-1.0 + affinity)))
    before_window = rng.random(n) < 0.4
    acquisition_day = np.where(before_window, rng.integers(0, HISTORY_DAYS, size=n),
                               rng.integers(timeline.first_window_day, timeline.last_window_day + 1, size=n))
    acquired_at = timeline.day_start_epoch(acquisition_day) + rng.integers(6 * 3600, 23 * 3600, size=n)
    in_crm = rng.random(n) < 0.88
    age_days = rng.integers(18 * 365, 85 * 365, size=n)
    birthdate = np.datetime64(timeline.end_date) - age_days.astype("timedelta64[D]")
    return pl.DataFrame({
        "person_index": np.arange(n, dtype=np.int64),
        "person_id": [f"P{i:07d}" for i in range(n)],
        "country": country.astype(str),
        "currency": [CURRENCY_OF_COUNTRY[c] for c in country],
        "lambda_per_year": lam,
        "p_dropout": p_dropout,
        "spend_rate_nu": nu,
        "spend_mean_usd": SPEND_P / nu,
        "email_engagement": engagement,
        "apple_mail_privacy": rng.random(n) < 0.3,
        "support_rate_per_year": rng.gamma(0.8, 0.5, size=n),
        "support_bad_prob": rng.beta(2.0, 8.0, size=n),
        "acquisition_day": acquisition_day,
        "acquired_at": acquired_at,
        "in_crm": in_crm,
        # People who never sign up arrive through a first order; others may only browse at first.
        "buys_at_acquisition": ~in_crm | (rng.random(n) < 0.45),
        "interest_mask": _interest_masks(n, rng),
        "states_interests": rng.random(n) < 0.7,
        "preferred_channel": rng.choice(np.array(CHANNELS), size=n, p=[0.42, 0.15, 0.05, 0.06, 0.32]),
        "lead_source": rng.choice(np.array(LEAD_SOURCES), size=n, p=[0.45, 0.08, 0.12, 0.05, 0.10, 0.20]),
        "birthdate": birthdate,
        "birthdate_known": rng.random(n) < 0.78,
        "email_opt_out_at": _consent_change(acquired_at, EMAIL_OPT_OUT_SHARE, timeline, rng),
        "personalization_opt_out_at": _consent_change(acquired_at, PERSONALIZATION_OPT_OUT_SHARE, timeline, rng),
    })


def interests_text(mask: int) -> str:
    """The `;`-separated category list of an interest mask."""
    return ";".join(name for bit, name in enumerate(CATEGORIES) if mask >> bit & 1)


def day_seconds(rng: np.random.Generator, size: int, peak_hour: float = 17.0) -> np.ndarray:
    """Seconds into a UTC day, clustered around a peak hour the way activity is."""
    hours = np.mod(rng.normal(peak_hour, 4.0, size=size), 24.0)
    return np.minimum((hours * 3600).astype(np.int64), SECONDS_PER_DAY - 1)
