"""Next-best action: for each customer, the action expected to add the most value net of its cost.

An action's expected incremental value for a customer is its estimated uplift (e.g. from
`uplift_models`) minus its cost per customer. A customer gets the best action they may receive, or
no action when none adds value. What they may receive:

- customers in the measurement holdout get no action, so the holdout keeps measuring everything;
- customers who opted out of personalization (an `is_personalization_opted_out` column, when given)
  get no action chosen for them;
- an action sent through a channel (email) needs the customer's consent to that channel (a `can_email`
  column); actions with no channel (an on-site offer) need none;
- a customer contacted through any channel within the last `frequency_cap_days` gets no contact;
- with a budget, the total cost is spent where value per dollar is highest (`budget_allocation`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from ml.measurement.budget_allocation import allocate_budget

NO_ACTION = "no_action"
NEXT_BEST_ACTIONS_TABLE = "next_best_actions"
"""The nightly choices' folder under the feature files, and the feature view's name."""
NEXT_BEST_ACTION_COLUMNS = {
    "customer_id": pl.String, "event_timestamp": pl.Datetime("us", "UTC"),
    "next_best_action": pl.String, "next_best_action_reason": pl.String,
    "next_best_action_value_usd": pl.Float64, "next_best_action_model": pl.String,
}


@dataclass(frozen=True)
class Action:
    """Something a customer can be given, what it costs per customer and how it reaches them."""

    name: str
    cost_usd: float
    description: str
    """How the reason names it: "a 15% discount"."""
    channel: str | None = "email"
    """The contact channel it is sent through; None when it reaches customers without contacting them."""


@dataclass(frozen=True)
class ContactPolicy:
    """Limits on whom to contact and how much to spend."""

    frequency_cap_days: int = 7
    budget_usd: float | None = None
    """Total cost across customers; None for no limit."""


@dataclass(frozen=True)
class ActionPlan:
    """One row per customer (customer_id, action, expected_incremental_value, cost_usd, in_holdout, reason)
    and per action (action, customers, expected_incremental_value, spend_usd)."""

    assignments: pl.DataFrame
    summary: pl.DataFrame
    expected_incremental_value: float
    spend_usd: float


def choose_next_best_actions(customers: pl.DataFrame, uplift: pl.DataFrame, actions: Sequence[Action], *, as_of: date,
                             policy: ContactPolicy = ContactPolicy()) -> ActionPlan:
    """The plan for `customers` (customer_id, in_holdout, last_contacted_at, a can_<channel> column per
    channel used, optionally is_personalization_opted_out) from `uplift` (customer_id and one column per action: estimated incremental value in
    dollars, before cost). A customer without an estimate for an action is not given it."""
    names = [action.name for action in actions]
    if not names or len(set(names)) != len(names) or NO_ACTION in names:
        raise ValueError(f"configure at least one action, with unique names other than {NO_ACTION!r}: {names}")
    missing = sorted({"customer_id", "in_holdout", "last_contacted_at"} - set(customers.columns)
                     | {f"can_{a.channel}" for a in actions if a.channel} - set(customers.columns))
    if missing or set(names) - set(uplift.columns):
        raise ValueError(f"customers lack {missing}; uplift lacks {sorted(set(names) - set(uplift.columns))}")
    for name, table in (("customers", customers), ("uplift", uplift)):
        if not table["customer_id"].is_unique().all():
            raise ValueError(f"{name} lists some customers more than once: one row per customer_id, please")
    frame = customers.join(uplift.select("customer_id", *names), on="customer_id", how="left")
    cost = np.array([action.cost_usd for action in actions], dtype=np.float64)
    net = frame.select(names).cast(pl.Float64).fill_null(np.nan).to_numpy().reshape(frame.height, len(names)) - cost
    holdout = frame["in_holdout"].cast(pl.Boolean).fill_null(True).to_numpy()  # unknown holdout status: leave the customer alone
    recent = frame["last_contacted_at"].cast(pl.Date).to_numpy() > np.datetime64(as_of - timedelta(days=policy.frequency_cap_days))
    opted_out = (frame["is_personalization_opted_out"].cast(pl.Boolean).fill_null(True).to_numpy()
                 if "is_personalization_opted_out" in frame.columns else np.zeros(frame.height, dtype=bool))
    anyone = np.ones(frame.height, dtype=bool)
    consented = np.column_stack([frame[f"can_{a.channel}"].cast(pl.Boolean).fill_null(False).to_numpy() if a.channel else anyone for a in actions])
    uncapped = np.column_stack([~recent if a.channel else anyone for a in actions])
    choice = allocate_budget(net, cost, consented & uncapped & ~(holdout | opted_out)[:, None], policy.budget_usd)
    chosen = choice >= 0
    rows = np.arange(frame.height)
    value = np.where(chosen, net[rows, np.maximum(choice, 0)], 0.0)
    assignments = pl.DataFrame({
        "customer_id": frame["customer_id"],
        "action": pl.Series(np.array([*names, NO_ACTION])[choice], dtype=pl.String),  # choice -1 (none) picks the last: NO_ACTION
        "expected_incremental_value": value,
        "cost_usd": np.where(chosen, cost[np.maximum(choice, 0)], 0.0),
        "in_holdout": holdout,
        "reason": pl.Series(_reasons(actions, choice, net, holdout, opted_out, consented, uncapped, policy), dtype=pl.String),
    })
    return ActionPlan(assignments, _summary(assignments, names), float(value.sum()), float(assignments["cost_usd"].sum()))


def _reasons(actions: Sequence[Action], choice: np.ndarray, net: np.ndarray, holdout: np.ndarray, opted_out: np.ndarray,
             consented: np.ndarray, uncapped: np.ndarray, policy: ContactPolicy) -> list[str]:
    """Why each customer got what they got; for no action, the first limit that stopped a valuable action."""
    adds_value = net > 0
    why_not = np.select(
        [holdout, opted_out, ~adds_value.any(axis=1), (adds_value & consented & uncapped).any(axis=1), (adds_value & consented).any(axis=1)],
        ["in the measurement holdout", "opted out of personalization", "no action adds value", "the budget went to customers where it adds more",
         f"contacted within the last {policy.frequency_cap_days} days"],
        "has not consented to the channels of the actions that would add value")
    reasons = why_not.tolist()
    for row in np.flatnonzero(choice >= 0):
        action = actions[choice[row]]
        reasons[row] = (f"{action.description} is expected to add ${net[row, choice[row]]:,.2f} for this customer, "
                        f"net of its ${action.cost_usd:,.2f} cost")
    return reasons


def _summary(assignments: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """Customers, expected incremental value and spend per action, every action listed (0 when unused)."""
    totals = assignments.group_by("action").agg(
        pl.len().alias("customers"), pl.col("expected_incremental_value").sum(), pl.col("cost_usd").sum().alias("spend_usd"))
    listed = pl.DataFrame({"action": [*names, NO_ACTION]})
    return listed.join(totals, on="action", how="left").with_columns(
        pl.col("customers").fill_null(0).cast(pl.Int64), pl.col("expected_incremental_value", "spend_usd").fill_null(0.0))
