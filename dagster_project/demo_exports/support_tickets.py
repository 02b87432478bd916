"""Zendesk ticket histories: status transitions, replies, reopens and satisfaction ratings.

The lifecycle simulation decides which tickets go badly; here a bad ticket gets the slow
replies, long resolutions, reopens and bad ratings that make it visible in the export.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from dagster_project.demo_exports.lifecycle import Lifecycles
from dagster_project.demo_exports.population import day_seconds
from dagster_project.demo_exports.timeline import Timeline

CHANNELS = np.array(["email", "web", "chat", "voice", "api"], dtype=object)
ORDER_TOPICS = ("order_status", "return_request", "damaged_item", "refund")
OTHER_TOPICS = ("product_question", "account_access", "billing", "feedback")
_MINUTE, _DAY = 60, 86_400
# (at, status, first_reply_minutes, full_resolution_minutes, reopens, satisfaction score)
Update = tuple[int, str, int | None, int | None, int, str]


def _minutes(rng: np.random.Generator, median_minutes: float, sigma: float = 0.8) -> int:
    return max(1, int(rng.lognormal(np.log(median_minutes), sigma)))


def _history(created: int, bad: bool, rng: np.random.Generator) -> list[Update]:
    """The ticket's state after each of its updates."""
    if rng.random() < 0.003:  # spam, deleted by an agent
        return [(created, "new", None, None, 0, "unoffered"), (created + 3600, "deleted", None, None, 0, "unoffered")]
    reply = _minutes(rng, 900 if bad else 90)
    updates: list[Update] = [(created, "new", None, None, 0, "unoffered")]
    at = created + reply * _MINUTE
    waiting = rng.choice(["open", "pending", "hold"], p=[0.45, 0.5, 0.05])
    updates.append((at, str(waiting), reply, None, 0, "unoffered"))
    solved = at + _minutes(rng, (6 if bad else 1.2) * 1440, 0.7) * _MINUTE
    if waiting != "open":
        updates.append(((at + solved) // 2, "open", reply, None, 0, "unoffered"))
    reopens = int(rng.choice([0, 1, 2], p=[0.5, 0.35, 0.15])) if bad else int(rng.random() < 0.05)
    for count in range(reopens + 1):
        updates.append((solved, "solved", reply, (solved - created) // _MINUTE, count, "offered"))
        if count < reopens:
            solved += int(rng.uniform(0.3, 4) * _DAY)
            updates.append((solved, "open", reply, None, count + 1, "offered"))
            solved += int(rng.uniform(0.5, 5) * _DAY)
    final = updates[-1]
    score = "offered"
    if rng.random() < 0.4:
        score = ("bad" if rng.random() < 0.75 else "good") if bad else ("good" if rng.random() < 0.92 else "bad")
        updates.append((solved + int(rng.uniform(3600, 3 * _DAY)), "solved", reply, final[3], reopens, score))
    updates.append((solved + 4 * _DAY, "closed", reply, final[3], reopens, score))
    return updates


def build_tickets(life: Lifecycles, timeline: Timeline, erased_at: np.ndarray,
                  rng: np.random.Generator) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Tickets created in the window (one row each) and every update of each (one row each)."""
    inside = (life.ticket_day >= timeline.first_window_day) & (life.ticket_day <= timeline.last_window_day)
    person, day = life.ticket_person[inside], life.ticket_day[inside]
    created = timeline.day_start_epoch(day) + day_seconds(rng, len(day), peak_hour=16.0)
    kept = (erased_at[person] < 0) | (created <= erased_at[person])
    order = np.argsort(created, kind="stable")
    order = order[kept[order]]
    bad, after_order = life.ticket_bad[inside][order], life.ticket_after_order[inside][order]
    person, created = person[order], created[order]
    n = len(person)
    ticket_id = 10_000 + np.arange(n)
    topic_pick = rng.integers(0, 4, size=n)
    tickets = pl.DataFrame({
        "ticket_id": ticket_id,
        "person_index": person,
        "created_at": created,
        "bad": bad,
        "topic": np.where(after_order, np.array(ORDER_TOPICS)[topic_pick], np.array(OTHER_TOPICS)[topic_pick]),
        "channel": rng.choice(CHANNELS, size=n, p=[0.5, 0.25, 0.13, 0.08, 0.04]),
        "priority": rng.choice(np.array(["low", "normal", "high", "urgent", ""]), size=n,
                               p=[0.15, 0.55, 0.2, 0.05, 0.05]),
        "email_pick": rng.random(n),
    }, schema_overrides={"channel": pl.String})
    rows: list[tuple] = []
    for i in range(n):
        for update in _history(int(created[i]), bool(bad[i]), rng):
            if erased_at[person[i]] < 0 or update[0] <= erased_at[person[i]]:
                rows.append((int(ticket_id[i]), *update))
    updates = pl.DataFrame(rows, orient="row", schema={
        "ticket_id": pl.Int64, "at": pl.Int64, "status": pl.String, "first_reply_minutes": pl.Int64,
        "full_resolution_minutes": pl.Int64, "reopens": pl.Int64, "score": pl.String})
    return tickets, updates
