"""Day-by-day life of every person: purchases, dropout, and support tickets that feed back into dropout.

A bad support experience raises the person's dropout probability and sometimes makes them
walk away at once, so support features carry real churn signal in the generated data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from dagster_project.demo_exports.timeline import Timeline

# Tickets cluster after orders: "where is my order", returns, damaged items.
ORDER_TICKET_RATE_PER_DAY = 0.015
ORDER_TICKET_WINDOW_DAYS = 14
BAD_TICKET_DROPOUT_FACTOR = 1.8
BAD_TICKET_DROPOUT_BUMP = 0.05
BAD_TICKET_WALKAWAY_PROB = 0.12
NEVER = np.iinfo(np.int32).max


@dataclass(frozen=True)
class Lifecycles:
    """What happened, in simulation days; tickets and purchases are parallel arrays."""

    purchase_person: np.ndarray
    purchase_day: np.ndarray
    ticket_person: np.ndarray
    ticket_day: np.ndarray
    ticket_bad: np.ndarray
    ticket_after_order: np.ndarray
    death_day: np.ndarray
    p_dropout_at_end: np.ndarray


def simulate_lifecycles(people: pl.DataFrame, timeline: Timeline, rng: np.random.Generator) -> Lifecycles:
    """Run every simulated day over all acquired people at once."""
    n = people.height
    acquisition_day = people["acquisition_day"].to_numpy()
    buys_first = people["buys_at_acquisition"].to_numpy()
    lam_day = people["lambda_per_year"].to_numpy() / 365.0
    support_day = people["support_rate_per_year"].to_numpy() / 365.0
    bad_prob = people["support_bad_prob"].to_numpy()
    p = people["p_dropout"].to_numpy().copy()
    alive = np.ones(n, dtype=bool)
    acquired = np.zeros(n, dtype=bool)
    death = np.full(n, NEVER, dtype=np.int32)
    last_order = np.full(n, -(10**6), dtype=np.int64)
    by_acquisition = np.argsort(acquisition_day, kind="stable")
    next_new = 0
    purchases: list[tuple[np.ndarray, int]] = []
    tickets: list[tuple[np.ndarray, int, np.ndarray, np.ndarray]] = []
    p_at_end = p.copy()
    for day in range(timeline.total_days):
        first_new = next_new
        while next_new < n and acquisition_day[by_acquisition[next_new]] == day:
            next_new += 1
        new = by_acquisition[first_new:next_new]
        acquired[new] = True
        active = np.flatnonzero(acquired & alive)
        counts = np.zeros(n, dtype=np.int64)
        counts[active] = rng.poisson(lam_day[active])
        counts[new[buys_first[new]]] += 1
        buyers = np.flatnonzero(counts)
        if buyers.size:
            purchases.append((np.repeat(buyers, counts[buyers]), day))
            last_order[buyers] = day
            # BG/NBD: after each purchase the buyer drops out with probability p.
            survives = rng.random(buyers.size) < (1.0 - p[buyers]) ** counts[buyers]
            leaving = buyers[~survives]
            alive[leaving] = False
            death[leaving] = day
        recent = acquired & (day - last_order <= ORDER_TICKET_WINDOW_DAYS)
        hazard = np.where(acquired & alive, support_day, 0.0) + np.where(recent, ORDER_TICKET_RATE_PER_DAY, 0.0)
        filed = np.flatnonzero(rng.random(n) < hazard)
        if filed.size:
            bad = rng.random(filed.size) < bad_prob[filed]
            tickets.append((filed, day, bad, recent[filed]))
            hurt = filed[bad]
            p[hurt] = np.minimum(0.95, p[hurt] * BAD_TICKET_DROPOUT_FACTOR + BAD_TICKET_DROPOUT_BUMP)
            walks = hurt[alive[hurt] & (rng.random(hurt.size) < BAD_TICKET_WALKAWAY_PROB)]
            alive[walks] = False
            death[walks] = day
        if day == timeline.last_window_day:
            p_at_end = p.copy()
    return Lifecycles(
        purchase_person=np.concatenate([b for b, _ in purchases] or [np.zeros(0, np.int64)]),
        purchase_day=np.concatenate([np.full(b.size, d) for b, d in purchases] or [np.zeros(0, np.int64)]),
        ticket_person=np.concatenate([t[0] for t in tickets] or [np.zeros(0, np.int64)]),
        ticket_day=np.concatenate([np.full(t[0].size, t[1]) for t in tickets] or [np.zeros(0, np.int64)]),
        ticket_bad=np.concatenate([t[2] for t in tickets] or [np.zeros(0, bool)]),
        ticket_after_order=np.concatenate([t[3] for t in tickets] or [np.zeros(0, bool)]),
        death_day=death,
        p_dropout_at_end=p_at_end,
    )
