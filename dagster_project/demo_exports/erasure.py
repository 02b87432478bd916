"""Data-subject erasure requests (GDPR Art. 17) from a few people who already appear in the data.

Requesters are people who have stopped buying; after the request the business's own tools
stop producing records about them, so nothing newer than the request reaches the exports.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from dagster_project.demo_exports.lifecycle import Lifecycles
from dagster_project.demo_exports.timeline import SECONDS_PER_DAY, Timeline

ERASURE_SHARE_PER_YEAR = 0.001


def choose_erasures(people: pl.DataFrame, life: Lifecycles, orders: pl.DataFrame, timeline: Timeline,
                    rng: np.random.Generator) -> pl.DataFrame:
    """request_id, person_index, email and received_at (Unix seconds) of each request."""
    n = people.height
    first_order = (orders.filter(~pl.col("is_test") & (pl.col("created_at") < timeline.window_end_epoch))
                   .group_by("person_index").agg(pl.col("created_at").min(), pl.col("email").first())
                   .sort("person_index"))
    seen_at = np.full(n, -1, dtype=np.int64)
    order_email = np.full(n, "", dtype=object)
    buyers = first_order["person_index"].to_numpy()
    seen_at[buyers] = first_order["created_at"].to_numpy()
    order_email[buyers] = first_order["email"].to_numpy()
    in_crm = people["in_crm"].to_numpy()
    seen_at = np.where(in_crm, people["acquired_at"].to_numpy(), seen_at)
    email = np.where(in_crm, people["email"].to_numpy(), order_email)
    left_at = timeline.day_start_epoch(np.minimum(life.death_day, timeline.total_days)) + SECONDS_PER_DAY
    earliest = np.maximum(np.maximum(seen_at, left_at), timeline.window_start_epoch) + SECONDS_PER_DAY
    latest = timeline.window_end_epoch - 3600
    # Shared mailboxes are left out: a request from info@company could not say whom it is about.
    candidates = np.flatnonzero((seen_at >= 0) & (email != "") & (earliest < latest)
                                & ~people["email_is_shared"].to_numpy())
    wanted = max(1, round(n * ERASURE_SHARE_PER_YEAR * timeline.days / 365))
    chosen = np.sort(rng.choice(candidates, size=min(wanted, len(candidates)), replace=False))
    received_at = earliest[chosen] + (rng.random(len(chosen)) * (latest - earliest[chosen])).astype(np.int64)
    tokens = rng.integers(0, 16**10, size=len(chosen))
    return pl.DataFrame({
        "request_id": [f"ER-{token:010x}" for token in tokens],
        "person_index": chosen.astype(np.int64),
        "email": email[chosen].astype(str),
        "received_at": received_at,
    }, schema_overrides={"email": pl.String}).sort("received_at")


def erasure_times(erasures: pl.DataFrame, people_count: int) -> np.ndarray:
    """Per person, when their erasure request arrived (-1 for none)."""
    erased_at = np.full(people_count, -1, dtype=np.int64)
    erased_at[erasures["person_index"].to_numpy()] = erasures["received_at"].to_numpy()
    return erased_at
