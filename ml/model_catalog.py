"""The three nightly models: what each predicts, from which feature service, and what it publishes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSpec:
    name: str
    kind: str
    """`classifier` (a calibrated probability) or `regressor` (an expected value)."""
    feature_service: str
    score: str
    """The published score's feature name in the `customer_scores` view."""
    baseline: str
    description: str


MODELS: dict[str, ModelSpec] = {
    "churn": ModelSpec("churn", "classifier", "churn_model", "churn_probability", "RFM cell rates",
                       "Probability that an active customer makes no purchase in the next 90 days."),
    "propensity": ModelSpec("propensity", "classifier", "propensity_model", "purchase_probability_30d", "RFM cell rates",
                            "Probability that a customer places an order in the next 30 days."),
    "clv": ModelSpec("clv", "regressor", "clv_model", "expected_value_365d_usd", "BG/NBD + Gamma-Gamma",
                     "Expected net revenue in USD over the next 365 days."),
}
