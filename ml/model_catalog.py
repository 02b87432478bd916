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
    """The published score's feature name in the `customer_scores` view: window-neutral, since the
    label window is a setting (`labels.<model>.horizon_days`)."""
    baseline: str
    description: str
    """What the score predicts, with `{days}` where the label window goes."""

    def describe(self, horizon_days: int) -> str:
        """The description for a label window of `horizon_days` days."""
        return self.description.format(days=horizon_days)


MODELS: dict[str, ModelSpec] = {
    "churn": ModelSpec("churn", "classifier", "churn_model", "churn_probability", "RFM cell rates",
                       "Probability that an active customer makes no purchase in the next {days} days."),
    "propensity": ModelSpec("propensity", "classifier", "propensity_model", "purchase_probability", "RFM cell rates",
                            "Probability that a customer places an order in the next {days} days."),
    "clv": ModelSpec("clv", "regressor", "clv_model", "expected_value_usd", "BG/NBD + Gamma-Gamma",
                     "Expected net revenue in USD over the next {days} days."),
}
