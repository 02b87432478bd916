"""Per-customer reasons: the inputs that pushed a score up most (xgboost's exact per-prediction
contributions), each said in plain words with the customer's own value."""

from __future__ import annotations

import math
import re
from typing import NamedTuple, SupportsFloat

import numpy as np
import polars as pl

_WINDOW = re.compile(r"^(?P<base>.+)_(?P<days>\d+)d$")


def _number(value: float, name: str) -> str:
    if "usd" in name:
        return f"${value:,.0f}"
    if name.endswith(("_rate", "_share")) or "_rate_" in name:
        return f"{value:.0%}"
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 10 else f"{value:.2f}"


def _words(name: str) -> str:
    return name.replace("_usd", "").replace("_", " ")


def describe_input(name: str, value: object) -> str:
    """A feature and its value in plain language, e.g. `143 days since the last order`."""
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    if name.startswith("days_since_"):
        event = _words(name.removeprefix("days_since_"))
        return f"no {event.removeprefix('last ').removeprefix('first ')} yet" if missing else f"{value:,.0f} days since the {event}"
    window = _WINDOW.match(name)
    if missing and (window or name.endswith("_lifetime")):
        # Counts and totals are missing when nothing of the kind ever happened.
        return f"no {_words(window['base'])} in the last {window['days']} days" if window else f"no {_words(name.removesuffix('_lifetime'))} yet"
    if missing:
        return f"{_words(name)}: unknown"
    if isinstance(value, str):
        return f"{_words(name)}: {value}"
    if isinstance(value, (bool, np.bool_)):
        return f"{_words(name)}: {'yes' if value else 'no'}"
    # Model inputs are numbers or category text (see ml.feature_matrix): with text, flags and gaps said above, a number is left.
    assert isinstance(value, SupportsFloat), f"{name}: {value!r} is not a number"
    if name.endswith("_lifetime"):
        return f"{_words(name.removesuffix('_lifetime'))} ever: {_number(float(value), name)}"
    if window:
        return f"{_words(window['base'])} in the last {window['days']} days: {_number(float(value), name)}"
    return f"{_words(name)}: {_number(float(value), name)}"


class RankedReasons(NamedTuple):
    """Per row, the reasons in plain words and each one's contribution to the model's margin
    (log-odds, or log-value for lifetime value); None and NaN fill the places of missing reasons."""

    texts: list[list[str | None]]
    contributions: np.ndarray


# Below this many scored rows, no input is judged constant: one customer's values say nothing.
MIN_ROWS_TO_JUDGE_CONSTANCY = 20


def modal_share(values: np.ndarray) -> float:
    """Share of the rows holding the most common value (missing counts as one value)."""
    series = pl.Series(values, strict=False)
    if series.dtype.is_float():
        series = series.fill_nan(None)
    return series.value_counts(sort=True)["count"][0] / len(series) if len(series) else 1.0


def top_reasons(contributions: np.ndarray, columns: list[str], values: dict[str, np.ndarray], count: int,
                max_modal_share: float = 0.98, min_contribution: float = 0.01) -> RankedReasons:
    """For each row, the `count` inputs with the largest positive contribution, described; None
    fills the places when fewer inputs pushed the score up. `contributions` has one column per
    input and a last bias column (xgboost's pred_contribs).

    An input is never a reason when it tells customers apart too little (its most common value
    held by more than `max_modal_share` of the scored rows, e.g. "favorite category spend share:
    100%" in a one-category shop), or when it moved this score by less than `min_contribution`
    (log-odds, or log-value)."""
    per_input = contributions[:, : len(columns)].astype(np.float64)
    if len(per_input) >= MIN_ROWS_TO_JUDGE_CONSTANCY:
        constant = [i for i, column in enumerate(columns) if modal_share(values[column]) > max_modal_share]
        per_input[:, constant] = -np.inf
    per_input[per_input < min_contribution] = -np.inf
    order = np.argsort(-per_input, axis=1, kind="stable")[:, :count]
    picked_contributions = np.take_along_axis(per_input, order, axis=1)
    picked_contributions[~np.isfinite(picked_contributions)] = np.nan
    texts = []
    for row, indices in enumerate(order):
        picked = [describe_input(columns[i], values[columns[i]][row]) if np.isfinite(per_input[row, i]) else None for i in indices]
        texts.append(picked + [None] * (count - len(picked)))
    padding = np.full((len(order), count - picked_contributions.shape[1]), np.nan)
    return RankedReasons(texts, np.hstack([picked_contributions, padding]))
