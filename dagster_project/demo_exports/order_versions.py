"""How orders change after they are placed: capture, fulfilment, cancellation, refunds.

Each change is a new version of the order; the export re-issues the order in the file of the
day it changed, so a reader must keep the version from the latest file.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from dagster_project.demo_exports.timeline import SECONDS_PER_DAY

_DAY = SECONDS_PER_DAY
_NONE = -1  # "empty" for timestamps, so that forward-filling keeps explicit blanks
_STATE = {"financial_status": pl.String, "paid_at": pl.Int64, "fulfillment_status": pl.String,
          "cancelled_at": pl.Int64, "refunded_cents": pl.Int64}


def _after(base: np.ndarray, low_days: float, high_days: float, rng: np.random.Generator) -> np.ndarray:
    return base + (rng.uniform(low_days, high_days, size=len(base)) * _DAY).astype(np.int64)


def plan_order_versions(orders: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Every state change as a row: order_index, at, and the full state after the change."""
    n = orders.height
    created = orders["created_at"].to_numpy()
    source = orders["source"].to_numpy()
    total = orders["total_cents"].to_numpy()
    multi_line = orders["line_count"].to_numpy() > 1
    pos, draft = source == "pos", source == "shopify_draft_order"
    u = rng.random(n)
    initial = np.where(pos, "paid", np.select([u < 0.85, u < 0.93], ["paid", "authorized"], "pending"))
    initial = np.where(draft, np.select([u < 0.2, u < 0.4], ["paid", "partially_paid"], "pending"), initial)
    fulfilled_at = np.where(pos, created, _after(created, 0.3, 3.5, rng))
    captured_at = np.where(initial == "authorized", fulfilled_at, _after(created, 0.5, 6.0, rng))
    captured_at = np.where(initial == "paid", created, captured_at)
    cancel_at = _after(created, 0.05, 1.5, rng)
    cancels = ~pos & (rng.random(n) < 0.02) & (cancel_at < fulfilled_at)
    refund_at = _after(fulfilled_at, 2.0, 30.0, rng)
    refunds = ~cancels & (rng.random(n) < 0.06)
    partial_refund = rng.random(n) < 0.45
    refunded = np.where(partial_refund, np.round(total * rng.uniform(0.2, 0.8, size=n)), total).astype(np.int64)
    partly_shipped = ~pos & multi_line & ~cancels & (rng.random(n) < 0.15)
    index = np.arange(n)

    def event(rows: np.ndarray, at: np.ndarray, **state) -> pl.DataFrame:
        """The orders in `rows` change at `at`; columns not given stay as they were (null, forward-filled)."""
        columns = {"order_index": index[rows], "at": at[rows]}
        for name, dtype in _STATE.items():
            value = state.get(name)
            columns[name] = (pl.Series(np.broadcast_to(value, n)[rows], dtype=dtype) if value is not None
                             else pl.Series([None] * int(rows.sum()), dtype=dtype))
        return pl.DataFrame(columns)

    everyone = np.ones(n, dtype=bool)
    paid_now = initial == "paid"
    shipped_ok = ~cancels
    events = [
        event(everyone, created, financial_status=initial, paid_at=np.where(paid_now, created, _NONE),
              fulfillment_status=np.where(pos, "fulfilled", "unfulfilled"), cancelled_at=np.full(n, _NONE),
              refunded_cents=np.zeros(n, dtype=np.int64)),
        event(~paid_now & (~cancels | (captured_at <= cancel_at)), captured_at, financial_status="paid",
              paid_at=captured_at),
        event(partly_shipped, (created + fulfilled_at) // 2, fulfillment_status="partial"),
        event(shipped_ok & ~pos, fulfilled_at, fulfillment_status="fulfilled"),
        event(cancels, cancel_at, financial_status=np.where(captured_at <= cancel_at, "refunded", "voided"),
              cancelled_at=cancel_at, refunded_cents=np.where(captured_at <= cancel_at, total, 0)),
        event(refunds, np.maximum(refund_at, captured_at + 3600),
              financial_status=np.where(partial_refund, "partially_refunded", "refunded"), refunded_cents=refunded),
    ]
    fill = list(_STATE)
    return (
        pl.concat(events)
        .with_row_index("event_no")
        .sort(["order_index", "at", "event_no"])
        .with_columns(pl.col(fill).forward_fill().over("order_index"))
        .drop("event_no")
    )


def order_net_revenue(orders: pl.DataFrame, versions: pl.DataFrame) -> pl.DataFrame:
    """Per non-test order: order_index, person_index, created_at, sim_day and `revenue_usd`, its net
    revenue after cancellations and refunds (Total minus Refunded Amount, 0 for a cancelled or voided
    order) at the published rate of its creation date."""
    final = versions.group_by("order_index", maintain_order=True).last()
    joined = orders.join(final, on="order_index", how="left", maintain_order="left")
    cancelled = (pl.col("cancelled_at") >= 0) | (pl.col("financial_status") == "voided")
    net_cents = pl.when(cancelled).then(0).otherwise(pl.col("total_cents") - pl.col("refunded_cents"))
    return joined.filter(~pl.col("is_test")).select(
        "order_index", "person_index", "created_at", "sim_day",
        (net_cents * pl.col("usd_per_unit") / 100).round(2).alias("revenue_usd"))
