"""How SendGrid's webhook delivers events: event ids, retries that repeat an event, late posts.

A retried post repeats the same `sg_event_id`, in the same day's file or a later one; a late
post lands up to three days after its event.
"""

from __future__ import annotations

import base64

import numpy as np
import polars as pl

from dagster_project.demo_exports.delivery import DeliverySchedule
from dagster_project.demo_exports.timeline import Timeline

LATE_SHARE = 0.02
DUPLICATE_SHARE = 0.01


def random_tokens(count: int, rng: np.random.Generator) -> pl.Series:
    """Deterministic 20-character URL-safe base64 tokens, like SendGrid's ids."""
    # 15 bytes encode to exactly 20 characters, so one encoding of the whole buffer splits
    # into the tokens without a per-token Python call.
    encoded = base64.urlsafe_b64encode(rng.bytes(15 * count))
    return pl.Series(np.frombuffer(encoded, dtype="S20")).cast(pl.String)


def schedule_webhooks(events: pl.DataFrame, owner_erased_at: np.ndarray, timeline: Timeline,
                      schedule: DeliverySchedule, rng: np.random.Generator) -> pl.DataFrame:
    """Events as posted, with `sg_event_id` and the `extract_offset` of the file each lands in."""
    cutoff = owner_erased_at[events["recipient"].to_numpy()]
    ts = events["ts"].to_numpy()
    events = events.filter(pl.Series((cutoff < 0) | (ts <= cutoff)))
    n = events.height
    ts = events["ts"].to_numpy()
    late_days = np.where(rng.random(n) < LATE_SHARE, rng.integers(1, 4, size=n), 0)
    arrival = timeline.window_offset(ts) + late_days
    posted = events.with_columns(
        pl.Series("sg_event_id", random_tokens(n, rng)),
        pl.Series("arrival", arrival),
        pl.lit(0, dtype=pl.Int8).alias("copy"),
    ).with_row_index("seq")
    retried = rng.random(n) < DUPLICATE_SHARE
    retry_delay = rng.choice(np.array([0, 0, 1, 2]), size=int(retried.sum()))
    retries = posted.filter(pl.Series(retried)).with_columns(
        pl.col("arrival") + pl.Series(retry_delay), pl.lit(1, dtype=pl.Int8).alias("copy"))
    both = pl.concat([posted, retries])
    offsets = schedule.extract_offset("email", both["arrival"].to_numpy())
    return (
        both.with_columns(pl.Series("extract_offset", offsets))
        .filter(pl.col("extract_offset") >= 0)
        .sort(["extract_offset", "ts", "seq", "copy"])
        .drop("arrival")
    )
