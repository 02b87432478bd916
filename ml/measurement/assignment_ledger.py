"""The assignments cxp makes itself (the global personalization holdout and the configured
experiments), kept as an append-only ledger in the warehouse.

A customer's arm is drawn once, by salted hash of their customer id, and recorded with the time it
was drawn. Later nights only add rows for customers (or experiments) that have none, so a rerun,
another day of data, or a change of shares or salt never moves a customer already assigned: new
settings apply to new customers only.

Identity merges: the surviving customer keeps the assignment recorded under its own id. When it has
none (both ids appeared since the last night), it takes the earliest assignment among the ids merged
into it, recorded again under its id with the rule `merge`. Rows of retired ids stay, as history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import polars as pl

from ml.measurement.assignment import assign_arms, in_holdout
from ml.measurement.experiment_settings import ExperimentSettings, MeasurementSettings

LEDGER_SCHEMA = "measurement"
LEDGER_TABLE = f"{LEDGER_SCHEMA}.assignments"
HOLDOUT = "personalization-holdout"
"""The experiment id of the global holdout in the ledger; its arms are `holdout` and `personalized`."""
STANDING_SQL = (f"SELECT experiment_id, customer_id, arg_min(arm, (assigned_at, recorded_at)) AS arm, min(assigned_at) AS assigned_at "
                f"FROM {LEDGER_TABLE} GROUP BY ALL")
"""Each customer's standing assignment per experiment: their earliest row, the one that counts."""


@dataclass(frozen=True)
class LedgerUpdate:
    """What one night added, per experiment id."""

    added: dict[str, int]
    inherited: dict[str, int]
    customers: int


def create_ledger(connection: duckdb.DuckDBPyConnection) -> None:
    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {LEDGER_SCHEMA}")
    connection.execute(f"""
        CREATE TABLE IF NOT EXISTS {LEDGER_TABLE} (
            experiment_id VARCHAR NOT NULL, customer_id VARCHAR NOT NULL, arm VARCHAR NOT NULL,
            assigned_at TIMESTAMP NOT NULL, recorded_at TIMESTAMP NOT NULL, rule VARCHAR NOT NULL, salt VARCHAR NOT NULL)""")


def record_assignments(connection: duckdb.DuckDBPyConnection, settings: MeasurementSettings, now: datetime,
                       customers: pl.DataFrame, retired: pl.DataFrame) -> LedgerUpdate:
    """Assign every live customer of `customers` (`customer_id`, plus `country_code`,
    `is_email_marketable`, `orders` for eligibility) who has no assignment yet in the holdout and in
    each configured experiment running on `now`'s date. `retired` maps `retired_customer_id` to
    `current_customer_id` (identity merges)."""
    create_ledger(connection)
    naive = now.replace(tzinfo=None)
    ledger = connection.sql(f"SELECT experiment_id, customer_id, arm, assigned_at FROM {LEDGER_TABLE}").pl()
    experiments: list[tuple[str, ExperimentSettings | None]] = [(HOLDOUT, None)]
    experiments += [(experiment_id, experiment) for experiment_id, experiment in sorted(settings.experiments.items())
                    if experiment.start <= naive.date() <= experiment.ends()]
    added: dict[str, int] = {}
    inherited: dict[str, int] = {}
    for experiment_id, experiment in experiments:
        eligible = customers if experiment is None else _eligible(customers, experiment)
        recorded = ledger.filter(pl.col("experiment_id") == experiment_id)
        missing = eligible.select("customer_id").join(recorded.select("customer_id"), on="customer_id", how="anti")
        merged = _inherited(missing, recorded, retired)
        fresh = missing.join(merged.select("customer_id"), on="customer_id", how="anti")
        if experiment is None:
            arms = pl.when(in_holdout(fresh["customer_id"], settings.holdout.salt, settings.holdout.share)).then(pl.lit("holdout")).otherwise(
                pl.lit("personalized"))
            fresh = fresh.with_columns(arms.alias("arm"))
            salt = f"holdout/{settings.holdout.salt}@{settings.holdout.share:g}"
        else:
            fresh = fresh.with_columns(assign_arms(fresh["customer_id"], experiment_id, experiment.arms).alias("arm"))
            salt = experiment_id
        rows = pl.concat([
            fresh.with_columns(pl.lit(naive).alias("assigned_at"), pl.lit("hash").alias("rule")),
            merged.with_columns(pl.lit("merge").alias("rule")),
        ], how="diagonal_relaxed").select(
            pl.lit(experiment_id).alias("experiment_id"), "customer_id", "arm", pl.col("assigned_at").cast(pl.Datetime("us")),
            pl.lit(naive).cast(pl.Datetime("us")).alias("recorded_at"), "rule", pl.lit(salt).alias("salt"))
        if rows.height:
            connection.register("new_assignments", rows.to_arrow())
            connection.execute(f"INSERT INTO {LEDGER_TABLE} SELECT * FROM new_assignments")
            connection.unregister("new_assignments")
        added[experiment_id], inherited[experiment_id] = fresh.height, merged.height
    return LedgerUpdate(added, inherited, customers.height)


def _inherited(missing: pl.DataFrame, recorded: pl.DataFrame, retired: pl.DataFrame) -> pl.DataFrame:
    """For live customers without a row: the earliest assignment among the ids merged into them."""
    if missing.is_empty() or retired.is_empty() or recorded.is_empty():
        return pl.DataFrame(schema={"customer_id": pl.String, "arm": pl.String, "assigned_at": pl.Datetime("us")})
    return (retired.join(missing, left_on="current_customer_id", right_on="customer_id", how="semi")
            .join(recorded, left_on="retired_customer_id", right_on="customer_id", how="inner")
            .sort("assigned_at", "retired_customer_id")
            .group_by("current_customer_id", maintain_order=True).first()
            .select(pl.col("current_customer_id").alias("customer_id"), "arm", pl.col("assigned_at").cast(pl.Datetime("us"))))


def _eligible(customers: pl.DataFrame, experiment: ExperimentSettings) -> pl.DataFrame:
    rules = experiment.eligibility
    keep = pl.col("orders").fill_null(0) >= rules.min_orders
    if rules.countries:
        keep &= pl.col("country_code").is_in([country.upper() for country in rules.countries])
    if rules.email_marketable_only:
        keep &= pl.col("is_email_marketable").fill_null(False)
    return customers.filter(keep)


def current_assignments(connection: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Each customer's standing assignment per experiment (their earliest row: the one that counts)."""
    create_ledger(connection)
    return connection.sql(f"{STANDING_SQL} ORDER BY experiment_id, customer_id").pl()


def read_customers(connection: duckdb.DuckDBPyConnection) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Live customers with what eligibility asks of them, and the ids merges retired."""
    customers = connection.sql("""
        SELECT customers.customer_id, customers.country_code, coalesce(customers.is_email_marketable, false) AS is_email_marketable,
               coalesce(orders.orders, 0) AS orders
        FROM marts.dim_customers AS customers
        LEFT JOIN (SELECT customer_id, count(*) AS orders FROM marts.fct_orders GROUP BY 1) AS orders USING (customer_id)
        ORDER BY 1""").pl()
    retired = connection.sql("""
        SELECT customer_id AS retired_customer_id, current_customer_id FROM marts.customer_id_lookup WHERE is_retired""").pl()
    return customers, retired


def holdout_customers(connection: duckdb.DuckDBPyConnection) -> set[str]:
    """Customers whose standing holdout assignment is `holdout` (none before the first night)."""
    if not connection.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = 'assignments'",
                              [LEDGER_SCHEMA]).fetchall()[0][0]:
        return set()
    return set(connection.sql(f"SELECT customer_id FROM ({STANDING_SQL}) WHERE experiment_id = '{HOLDOUT}' AND arm = 'holdout'")
               .pl()["customer_id"].to_list())

