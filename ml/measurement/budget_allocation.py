"""Spend a budget on the customers and actions where each dollar adds the most value.

Each customer can get one of several actions, each with a net value (expected incremental value minus
its cost) and a cost: a multiple-choice knapsack. The greedy here (Sinha and Zoltners, 1979) walks each
customer's options up the upper convex hull of (cost, value), starting from no action: every step
upgrades the customer to a dearer option and has an efficiency, extra value per extra dollar, which
falls from one step to the next. All customers' steps are taken in order of efficiency, highest first,
until the next one does not fit the budget. So the budget goes first to the best value per dollar, a
customer gets a dearer action only when its extra value per dollar beats what other customers would
make of that money, and at most one step's cost is left unspent. Without a budget every step is taken,
which gives each customer their best option.
"""

from __future__ import annotations

import numpy as np


def allocate_budget(value: np.ndarray, cost: np.ndarray, eligible: np.ndarray, budget: float | None) -> np.ndarray:
    """The index of each customer's chosen option, or -1 for none.

    `value` is customers x options (net of cost), `cost` one per option (>= 0), `eligible` customers x
    options. Options that are ineligible or have a value <= 0 are never chosen; `budget` None is unlimited."""
    value, cost = np.asarray(value, dtype=np.float64), np.asarray(cost, dtype=np.float64)
    if value.ndim != 2 or value.shape != np.shape(eligible) or value.shape[1] != cost.size:
        raise ValueError(f"value {value.shape}, eligible {np.shape(eligible)} and cost {cost.shape} do not match")
    if (cost < 0).any() or not np.isfinite(cost).all():
        raise ValueError(f"costs must be finite and >= 0, got {cost.tolist()}")
    if budget is not None and not budget >= 0:
        raise ValueError(f"the budget must be >= 0 (or None for no limit), got {budget}")
    usable = np.asarray(eligible, dtype=bool) & np.isfinite(value) & (value > 0)
    worth = np.where(usable, value, -np.inf)
    n = value.shape[0]
    rows = np.arange(n)
    # Free options cost nothing from the budget: start each customer at their best one (or at no action).
    free = np.where(cost == 0, worth, -np.inf)
    chosen = np.where(free.max(axis=1, initial=-np.inf) > 0, free.argmax(axis=1) if free.size else -1, -1)
    current_value = np.where(chosen >= 0, worth[rows, np.maximum(chosen, 0)], 0.0)
    current_cost = np.zeros(n)
    path = np.full((n, cost.size), -1)  # the option each customer reaches at each step up the hull
    steps: list[tuple[np.ndarray, int, np.ndarray, np.ndarray]] = []  # (customers, step, extra cost, efficiency)
    for step in range(cost.size):
        extra_cost = cost[None, :] - current_cost[:, None]
        gain = worth - current_value[:, None]
        upgrade = (extra_cost > 0) & (gain > 0)
        efficiency = np.where(upgrade, gain / np.where(upgrade, extra_cost, 1.0), -np.inf)
        best = efficiency.argmax(axis=1)
        moving = np.flatnonzero(efficiency[rows, best] > -np.inf)
        if moving.size == 0:
            break
        option = best[moving]
        path[moving, step] = option
        steps.append((moving, step, extra_cost[moving, option], efficiency[moving, option]))
        current_value[moving], current_cost[moving] = worth[moving, option], cost[option]
    if not steps:
        return chosen
    customer = np.concatenate([moving for moving, _, _, _ in steps])
    step_of = np.concatenate([np.full(moving.size, step) for moving, step, _, _ in steps])
    extra = np.concatenate([extra for _, _, extra, _ in steps])
    efficiency = np.concatenate([efficiency for _, _, _, efficiency in steps])
    # Stable, so a customer's equally efficient steps keep their order (an upgrade never precedes its base).
    order = np.argsort(-efficiency, kind="stable")
    taken = order if budget is None else order[np.cumsum(extra[order]) <= budget + 1e-9]
    reached = np.full(n, -1)
    np.maximum.at(reached, customer[taken], step_of[taken])
    upgraded = reached >= 0
    chosen[upgraded] = path[upgraded, reached[upgraded]]
    return chosen
