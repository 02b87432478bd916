"""Per-customer reasons: the inputs that pushed a score up most (xgboost's exact per-prediction
contributions), each said in plain words with the customer's own value (ml.reason_phrases), one
per signal."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import polars as pl

from ml.reason_phrases import describe_input, signal_of


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
    held by more than `max_modal_share` of the scored rows, e.g. "100% of spending in one category"
    in a one-category shop), or when it moved this score by less than `min_contribution`
    (log-odds, or log-value). Inputs of one signal (ml.reason_phrases.signal_of: "has never opened an
    email" and "opened no email in the last 90 days") give one reason, the strongest."""
    per_input = contributions[:, : len(columns)].astype(np.float64)
    if len(per_input) >= MIN_ROWS_TO_JUDGE_CONSTANCY:
        constant = [i for i, column in enumerate(columns) if modal_share(values[column]) > max_modal_share]
        per_input[:, constant] = -np.inf
    per_input[per_input < min_contribution] = -np.inf
    # Candidates in order of contribution; of inputs measuring one signal, only the strongest is a reason.
    signals = [signal_of(column) for column in columns]
    order = np.argsort(-per_input, axis=1, kind="stable")
    texts, picked_contributions = [], np.full((len(order), count), np.nan)
    for row, indices in enumerate(order):
        said: list[str] = []
        seen: set[str] = set()
        for i in indices:
            if len(said) == count or not np.isfinite(per_input[row, i]):
                break
            if signals[i] in seen:
                continue
            seen.add(signals[i])
            picked_contributions[row, len(said)] = per_input[row, i]
            said.append(describe_input(columns[i], values[columns[i]][row]))
        texts.append([*said, *[None] * (count - len(said))])
    return RankedReasons(texts, picked_contributions)
