"""Deterministic arm assignment: a customer's arm is a pure function of their key and the experiment.

sha256 of "{salt}:{key}" gives each key a uniform number in [0, 1), and the arms split that interval
in the order they are listed. No state is stored, so any process (a nightly job, the web shop, a
re-run a month later) finds the same arm for the same customer, whatever order the keys come in.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

HOLDOUT_SHARE = 0.05
HOLDOUT_SALT = "global-holdout"
SHARE_TOLERANCE = 1e-6


def validate_shares(arms: Mapping[str, float]) -> dict[str, float]:
    """The arms and their shares as a dict, or a ValueError saying what is wrong with them."""
    if not arms:
        raise ValueError("an experiment needs at least one arm")
    bad = {arm: share for arm, share in arms.items() if not (math.isfinite(share) and share >= 0)}
    if bad:
        raise ValueError(f"arm shares must be finite numbers >= 0, got {bad}")
    total = sum(arms.values())
    if abs(total - 1.0) > SHARE_TOLERANCE:
        raise ValueError(f"arm shares must sum to 1, got {total:g} for {dict(arms)}")
    return dict(arms)


def unit_interval(keys: pl.Series | Sequence[str], salt: str) -> np.ndarray:
    """Each key's uniform number in [0, 1): the top 53 bits of sha256("{salt}:{key}") over 2**53."""
    series = _as_strings(keys)
    prefix = f"{salt}:"
    # One join and one frombuffer instead of a Python int per key: about a second per million keys.
    head = b"".join(hashlib.sha256((prefix + key).encode()).digest()[:8] for key in series.to_list())
    # 53 bits fit a float exactly, so the result is never rounded up to 1.0.
    return (np.frombuffer(head, dtype=">u8") >> np.uint64(11)).astype(np.float64) / 2.0**53


def assign_arms(keys: pl.Series | Sequence[str], salt: str, arms: Mapping[str, float]) -> pl.Series:
    """Each key's arm (a String series named "arm", in the order of `keys`), by its salted hash.

    `salt` is the experiment's id, so different experiments split the same customers independently;
    `arms` maps arm name to share (summing to 1). Changing the shares moves customers between arms,
    so fix them before the experiment starts."""
    shares = validate_shares(arms)
    names = np.array(list(shares), dtype=object)
    bounds = np.cumsum(list(shares.values()))
    bounds[-1] = 1.0  # shares summing to 0.9999999 must not leave the top of the interval unassigned
    index = np.searchsorted(bounds, unit_interval(keys, salt), side="right")
    return pl.Series("arm", names[index], dtype=pl.String)


def in_holdout(keys: pl.Series | Sequence[str], salt: str = HOLDOUT_SALT, share: float = HOLDOUT_SHARE) -> pl.Series:
    """Whether each key is in the global holdout (a Boolean series named "in_holdout"), `share` of keys.

    The hash is namespaced ("holdout/{salt}"), so even a holdout given an experiment's id as its salt
    splits customers independently of that experiment's arms."""
    if not (math.isfinite(share) and 0.0 <= share <= 1.0):
        raise ValueError(f"holdout share must be between 0 and 1, got {share}")
    return pl.Series("in_holdout", unit_interval(keys, f"holdout/{salt}") < share, dtype=pl.Boolean)


def _as_strings(keys: pl.Series | Sequence[str]) -> pl.Series:
    series = keys if isinstance(keys, pl.Series) else pl.Series(values=list(keys), dtype=pl.String)
    series = series.cast(pl.String)
    if series.null_count():
        raise ValueError(f"{series.null_count()} keys are null: a customer without a key cannot be assigned an arm")
    return series
