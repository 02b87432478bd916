"""The best achievable scores on generated data: predictions from each person's latent truth.

The demo generator simulates BG/NBD buyers (purchase rate λ per year, dropout probability p after
each purchase) and writes their parameters and dropout dates to `_truth/people.parquet`. Knowing
whether a person is still alive at the cutoff and their λ and p, the expected outcome over the
label window is, for an alive person:

- P(no purchase in h days) = exp(-λh), P(a purchase) = 1 - exp(-λh);
- expected purchases in h days = (1 - exp(-λph)) / p, times their mean order value,

and for a person who has dropped out: certain churn, no purchase, no value. No model can know more
than this, so a metric of the oracle is the ceiling of that metric.
"""

from __future__ import annotations

import numpy as np
import polars as pl


def customer_persons(resolved: pl.DataFrame, truth_records: pl.DataFrame) -> pl.DataFrame:
    """`customer_id → person_id`: the person most of a customer's records belong to."""
    return (resolved.join(truth_records, on="record_id", how="inner")
            .group_by("customer_id", "person_id").len()
            .sort("len", "person_id", descending=[True, False])
            .unique("customer_id", keep="first", maintain_order=True)
            .select("customer_id", "person_id"))


def oracle_predictions(model: str, evaluation: pl.DataFrame, persons: pl.DataFrame, people: pl.DataFrame,
                       horizon_days: int) -> pl.DataFrame:
    """The oracle's prediction for each evaluation row (`customer_id`, `cutoff_date`) whose customer
    maps to a person; rows that map to no person are left out."""
    rows = evaluation.select("customer_id", "cutoff_date").join(persons, on="customer_id", how="inner").join(
        people.select("person_id", "lambda_per_year", "p_dropout_at_end", "spend_mean_usd", "dropout_date"),
        on="person_id", how="inner")
    alive = (rows["dropout_date"].is_null() | (rows["dropout_date"] > rows["cutoff_date"])).to_numpy()
    rate = rows["lambda_per_year"].to_numpy() * horizon_days / 365.0
    p = np.clip(rows["p_dropout_at_end"].to_numpy(), 1e-6, 1.0)
    if model == "churn":
        prediction = np.where(alive, np.exp(-rate), 1.0)
    elif model == "propensity":
        prediction = np.where(alive, 1.0 - np.exp(-rate), 0.0)
    elif model == "clv":
        prediction = np.where(alive, -np.expm1(-rate * p) / p * rows["spend_mean_usd"].to_numpy(), 0.0)
    else:
        raise ValueError(f"no oracle for model {model!r}")
    return rows.select("customer_id", "cutoff_date").with_columns(pl.Series("oracle", prediction))
