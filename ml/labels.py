"""What each model learns to predict, defined once, from the unified facts.

A cutoff is the end of an extract date C. Features are what was known by then (Feast joins the
snapshot of C, stamped C+1 00:00 UTC); labels look only at orders placed from C+1 00:00 on, so no
label window overlaps the features' time.

- churn: among customers active at C (a purchase placed in the `active_days` up to C, as known on
  C and not cancelled by then), 1 when no order that stays uncancelled is placed in the next
  `horizon_days`;
- propensity: among customers known at C, 1 when they place an order that stays uncancelled in
  the next `horizon_days`;
- clv: among customers known at C, their net revenue in USD (total minus refunds, cancelled and
  staff test orders count nothing) over the next `horizon_days`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import duckdb
import polars as pl
from dateutil.relativedelta import relativedelta

from dagster_project.warehouse import frames_registered, table_exists
from ml.model_settings import LabelWindows, TrainingSettings

LABEL_COLUMN = "label"


@dataclass(frozen=True)
class DataSpan:
    """The extract dates the feature snapshots cover."""

    first_date: date
    last_date: date


def read_data_span(connection: duckdb.DuckDBPyConnection) -> DataSpan:
    """From the first extract date the behaviour features cover to the newest snapshot date of any
    feature table. (The profiles start earlier: the first CRM load back-dates contacts created before
    it; with no behaviour yet, e.g. only CRM exports, the span is the newest profile day alone.)"""
    first, last = connection.execute("""
        SELECT coalesce(least((SELECT min(snapshot_date) FROM features.customer_purchase_features),
                              (SELECT min(snapshot_date) FROM features.customer_email_features),
                              (SELECT min(snapshot_date) FROM features.customer_support_features)),
                        (SELECT max(snapshot_date) FROM features.customer_profile_features)),
               greatest((SELECT max(snapshot_date) FROM features.customer_purchase_features),
                        (SELECT max(snapshot_date) FROM features.customer_email_features),
                        (SELECT max(snapshot_date) FROM features.customer_support_features),
                        (SELECT max(snapshot_date) FROM features.customer_profile_features))
    """).fetchall()[0]
    if first is None or last is None:
        raise ValueError("the feature snapshot tables are empty: build the feature marts before training or scoring")
    return DataSpan(first, last)


def cutoff_timestamp(cutoff: date) -> datetime:
    """The moment a cutoff's features are taken at: the end of the extract date, UTC."""
    return datetime.combine(cutoff + timedelta(days=1), time(), tzinfo=timezone.utc)


@dataclass(frozen=True)
class CutoffPlan:
    """Training cutoffs (oldest first), the holdout and the out-of-time evaluation cutoff."""

    train: list[date]
    holdout: date
    evaluation: date

    @property
    def all(self) -> list[date]:
        return [*self.train, self.holdout, self.evaluation]


def history_needed_days(model: str, windows: LabelWindows, training: TrainingSettings) -> int:
    """Days of features a model needs before it can train: two label windows and two monthly
    cutoffs on top of the minimum history."""
    return training.min_history_days + 2 * windows.horizon_days(model) + 31


def plan_cutoffs(model: str, span: DataSpan, windows: LabelWindows, training: TrainingSettings) -> CutoffPlan | None:
    """The evaluation cutoff is the newest whose label window has closed. Training cutoffs step
    back a calendar month at a time from it, starting at the first whose label window closed by the
    evaluation cutoff (so nothing the evaluation labels describe was known in training), down to
    `min_history_days` after the first extract date, at most `max_cutoffs`; the newest of them is
    the holdout. None when fewer than two such cutoffs exist yet."""
    horizon = timedelta(days=windows.horizon_days(model))
    evaluation = span.last_date - horizon
    earliest = span.first_date + timedelta(days=training.min_history_days)
    earlier: list[date] = []
    months = 1
    while len(earlier) < training.max_cutoffs:
        cutoff = evaluation - relativedelta(months=months)
        months += 1
        if cutoff < earliest:
            break
        if cutoff + horizon <= evaluation:
            earlier.append(cutoff)
    if len(earlier) < 2:
        return None
    earlier.sort()
    return CutoffPlan(train=earlier[:-1], holdout=earlier[-1], evaluation=evaluation)


def current_customers_sql(connection: duckdb.DuckDBPyConnection) -> str:
    """A query of the ids to learn from and score: every customer with a profile, less the ids an
    identity merge retired (their orders now belong to the survivor)."""
    retired = table_exists(connection, "identity.retired_customer_ids")
    exclude = " WHERE customer_id NOT IN (SELECT retired_customer_id FROM identity.retired_customer_ids)" if retired else ""
    return f"SELECT customer_id, min(snapshot_date) AS first_known_on FROM features.customer_profile_features{exclude} GROUP BY customer_id"


def read_labels(connection: duckdb.DuckDBPyConnection, model: str, cutoffs: list[date], windows: LabelWindows,
                max_rows_per_cutoff: int | None = None, seed: int = 0) -> pl.DataFrame:
    """Entity rows with their label: `customer_id`, `cutoff_date`, `event_timestamp`, `label`.

    With `max_rows_per_cutoff`, each cutoff keeps that many customers chosen by a seeded hash of the
    id, so the same customers are drawn on every run.
    """
    if not cutoffs:
        return pl.DataFrame(schema={"customer_id": pl.String, "cutoff_date": pl.Date,
                                    "event_timestamp": pl.Datetime("us", "UTC"), LABEL_COLUMN: pl.Float64})
    horizon = windows.horizon_days(model)
    population = (
        f"""SELECT DISTINCT orders.customer_id, cutoffs.cutoff_date
            FROM intermediate.int_customer_order_states AS orders
            SEMI JOIN ({current_customers_sql(connection)}) AS known ON known.customer_id = orders.customer_id
            JOIN cutoffs ON orders.known_on <= cutoffs.cutoff_date
             AND orders.placed_on > cutoffs.cutoff_date - {windows.churn.active_days}
             AND orders.placed_on <= cutoffs.cutoff_date
             AND (orders.cancelled_known_on IS NULL OR orders.cancelled_known_on > cutoffs.cutoff_date)"""
        if model == "churn" else
        f"""SELECT known.customer_id, cutoffs.cutoff_date
            FROM ({current_customers_sql(connection)}) AS known
            JOIN cutoffs ON known.first_known_on <= cutoffs.cutoff_date"""
    )
    label = {"churn": "CAST(count(orders.order_id) = 0 AS DOUBLE)",
             "propensity": "CAST(count(orders.order_id) > 0 AS DOUBLE)",
             "clv": "CAST(coalesce(sum(orders.net_amount_usd), 0) AS DOUBLE)"}[model]
    sample = (f"QUALIFY row_number() OVER (PARTITION BY cutoff_date ORDER BY hash(customer_id, {int(seed)})) <= {int(max_rows_per_cutoff)}"
              if max_rows_per_cutoff else "")
    cutoff_frame = pl.DataFrame({"cutoff_date": cutoffs}, schema={"cutoff_date": pl.Date})
    with frames_registered(connection, cutoffs=cutoff_frame):
        rows = connection.sql(f"""
            WITH population AS ({population}),
            sampled AS (SELECT * FROM population {sample})
            SELECT sampled.customer_id, sampled.cutoff_date,
                   CAST(sampled.cutoff_date + 1 AS TIMESTAMP) AS event_timestamp,
                   {label} AS {LABEL_COLUMN}
            FROM sampled
            LEFT JOIN marts.fct_orders AS orders
              ON orders.customer_id = sampled.customer_id
             AND NOT orders.is_cancelled
             AND orders.created_at >= CAST(sampled.cutoff_date + 1 AS TIMESTAMP)
             AND orders.created_at < CAST(sampled.cutoff_date + 1 + {horizon} AS TIMESTAMP)
            GROUP BY ALL
            ORDER BY sampled.cutoff_date, sampled.customer_id
        """).pl()
    return rows.with_columns(pl.col("event_timestamp").dt.replace_time_zone("UTC"))
