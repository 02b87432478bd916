"""What is measured: the global personalization holdout and the experiments cxp assigns, defaults in
`experiment_settings.yml`, overridable per environment (CXP_EXPERIMENT_SETTINGS), as the model settings are."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveInt, field_validator, model_validator

from dagster_project.yaml_overrides import Share, StrictSettings, load_layered
from ml.measurement.assignment import validate_shares

DEFAULTS_FILE = Path(__file__).with_name("experiment_settings.yml")
Metric = Literal["conversion", "repeat_purchase_rate", "retention", "revenue_per_customer", "average_order_value", "clv"]


class HoldoutSettings(StrictSettings):
    share: Share
    """Customers kept out of every personalization (scores, recommendations, actions)."""
    salt: str
    """The holdout's hash namespace; a new salt reshuffles who is held out."""


class Eligibility(StrictSettings):
    """Who may enter an experiment: everyone, unless narrowed here."""

    countries: list[str] | None = None
    """ISO country codes; none: every country."""
    min_orders: NonNegativeInt = 0
    email_marketable_only: bool = False
    """Only customers who may be emailed (an email campaign cannot reach the others)."""


class ExperimentSettings(StrictSettings):
    """One experiment: its arms and their shares (the control arm among them), when it starts, how long
    its outcomes are watched, and the metric it is judged on."""

    name: str
    arms: dict[str, Share]
    control: str = "control"
    start: date
    horizon_days: PositiveInt
    primary_metric: Metric
    eligibility: Eligibility = Eligibility()

    @field_validator("arms")
    @classmethod
    def _shares_sum_to_one(cls, arms: dict[str, float]) -> dict[str, float]:
        if len(arms) < 2:
            raise ValueError(f"an experiment needs a control and at least one other arm, got {sorted(arms)}")
        return validate_shares(arms)

    @model_validator(mode="after")
    def _control_is_an_arm(self) -> ExperimentSettings:
        if self.control not in self.arms:
            raise ValueError(f"control arm {self.control!r} is not among the arms {sorted(self.arms)}")
        return self

    def ends(self) -> date:
        """The last day whose outcomes count."""
        return self.start + timedelta(days=self.horizon_days - 1)


class LoggedExperimentDefaults(StrictSettings):
    """How an experiment known only from another tool's assignment log (experiments/assignments) is
    measured when `experiments` does not configure its id."""

    horizon_days: PositiveInt
    primary_metric: Metric
    control_arms: list[str]
    """Arm names taken as control, in order of preference; an experiment with none of them is
    reported with its arms listed and no comparison until it is configured."""


class ActionSettings(StrictSettings):
    """Something a customer can be given, and the experiment arm that measured what it does."""

    description: str
    """How a reason names it: "the 15% reactivation discount"."""
    cost_usd: NonNegativeFloat
    """What giving it to one customer costs (the discount's margin, the send)."""
    channel: Literal["email"] | None = "email"
    """The contact channel it goes through (consent and the frequency cap apply); none for an on-site action."""
    learned_from_arm: str | None = None
    """The arm of a randomized experiment that gave this action (default: the action's own name); its
    uplift is learned from the newest experiment with such an arm whose horizon has ended."""


class NextBestActionSettings(StrictSettings):
    """Which actions the next-best-action step chooses among, and the limits on contacting customers."""

    actions: dict[str, ActionSettings]
    frequency_cap_days: NonNegativeInt
    """A customer contacted through a channel within this many days gets no action through it."""
    budget_usd: NonNegativeFloat | None = None
    """Total cost of one night's actions; none for no limit."""
    learner: Literal["best", "t_learner", "x_learner"] = "best"
    """The uplift model: `best` takes the learner with the higher cross-fitted Qini coefficient."""
    folds: int = Field(default=3, ge=2, le=10)
    """Cross-fitting folds: each experiment customer's effect is predicted by a model that never saw them."""
    min_customers_per_arm: PositiveInt = 100
    """Fewer customers than this in an arm (or in control) and no uplift is learned from the experiment."""
    targeting_confidence: float = Field(default=0.95, ge=0.5, lt=1.0)
    """How sure the held-out check must be (one-sided, by bootstrap over the experiment's customers)
    that targeting by the model adds more than the better blanket policy before the night targets by
    it; 0.5 compares the point estimates alone."""


class MeasurementSettings(StrictSettings):
    holdout: HoldoutSettings
    logged_experiments: LoggedExperimentDefaults
    experiments: dict[str, ExperimentSettings]
    next_best_action: NextBestActionSettings
    """By experiment id: the id salts the assignment, so it must stay the same once the experiment starts."""

    @model_validator(mode="after")
    def _holdout_salt_is_not_an_experiment(self) -> MeasurementSettings:
        # The holdout hashes in its own namespace anyway; one name for two things is a typo waiting to happen.
        if self.holdout.salt in self.experiments:
            raise ValueError(f"the holdout's salt {self.holdout.salt!r} is also an experiment id")
        return self


def load_measurement_settings(override_file: Path | None = None) -> MeasurementSettings:
    """The defaults, with the keys of `override_file` (if any) replacing theirs (see `load_layered`)."""
    return load_layered(MeasurementSettings, DEFAULTS_FILE, override_file)
