"""The best achievable scores on generated data: predictions from each person's latent truth.

The demo generator simulates BG/NBD buyers (purchase rate λ per year, dropout probability p after
each purchase) and writes their parameters and dropout dates to `_truth/people.parquet`. Knowing
whether a person is still alive at the cutoff, their λ and p, and the rate w at which bad support
tickets make them walk away (support tickets per year × P(bad) × the walk-away share), the expected
outcome over the label window of h days is, for an alive person:

- P(a purchase) = λ/(λ+w) · (1 - exp(-(λ+w)h)), P(no purchase) = 1 - that;
- expected purchases = λ/(λp+w) · (1 - exp(-(λp+w)h)), times their mean order value,

and for a person who has dropped out: certain churn, no purchase, no value. Close to the best any
model could do: p is known only at the end of the window (bad tickets raise it), and mean order
values are before tax and shipping.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from dagster_project.demo_exports.lifecycle import BAD_TICKET_WALKAWAY_PROB


def customer_persons(resolved: pl.DataFrame, truth_records: pl.DataFrame) -> pl.DataFrame:
    """`customer_id → person_id`: the person most of a customer's records belong to."""
    return (resolved.join(truth_records, on="record_id", how="inner")
            .group_by("customer_id", "person_id").len()
            .sort("len", "person_id", descending=[True, False])
            .unique("customer_id", keep="first", maintain_order=True)
            .select("customer_id", "person_id"))


def chance_of_purchase(rate_per_year: np.ndarray, walkaway_per_year: np.ndarray, years: float) -> np.ndarray:
    """P(a purchase within `years`) for a person alive now who buys at `rate_per_year` and walks away
    after a bad ticket at `walkaway_per_year`: λ/(λ+w) · (1 - exp(-(λ+w)·years))."""
    total = rate_per_year + walkaway_per_year
    return rate_per_year / np.maximum(total, 1e-12) * -np.expm1(-total * years)


def oracle_predictions(model: str, evaluation: pl.DataFrame, persons: pl.DataFrame, people: pl.DataFrame,
                       horizon_days: int) -> pl.DataFrame:
    """The oracle's prediction for each evaluation row (`customer_id`, `cutoff_date`) whose customer
    maps to a person; rows that map to no person are left out."""
    rows = evaluation.select("customer_id", "cutoff_date").join(persons, on="customer_id", how="inner").join(
        people.select("person_id", "lambda_per_year", "p_dropout_at_end", "spend_mean_usd", "dropout_date",
                      "support_rate_per_year", "support_bad_prob"),
        on="person_id", how="inner")
    alive = (rows["dropout_date"].is_null() | (rows["dropout_date"] > rows["cutoff_date"])).to_numpy()
    years = horizon_days / 365.0
    rate = rows["lambda_per_year"].to_numpy()
    walkaway = rows["support_rate_per_year"].to_numpy() * rows["support_bad_prob"].to_numpy() * BAD_TICKET_WALKAWAY_PROB
    p = np.clip(rows["p_dropout_at_end"].to_numpy(), 1e-6, 1.0)
    buys = chance_of_purchase(rate, walkaway, years)
    if model == "churn":
        prediction = np.where(alive, 1.0 - buys, 1.0)
    elif model == "propensity":
        prediction = np.where(alive, buys, 0.0)
    elif model == "clv":
        loss = rate * p + walkaway
        purchases = rate / np.maximum(loss, 1e-12) * -np.expm1(-loss * years)
        prediction = np.where(alive, purchases * rows["spend_mean_usd"].to_numpy(), 0.0)
    else:
        raise ValueError(f"no oracle for model {model!r}")
    return rows.select("customer_id", "cutoff_date").with_columns(pl.Series("oracle", prediction))
