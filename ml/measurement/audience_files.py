"""Audience files for the email tool: per experiment cxp assigns (the holdout included), who is in
which arm, so that campaigns honour the split.

The files are rewritten whole every night from the ledger and the customer 360 as they stand after
the night's erasures, so an erased person leaves them the same night. An email is written only for
customers who may be emailed; the others are listed by customer id alone.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from ml.measurement.assignment_ledger import STANDING_SQL, create_ledger

AUDIENCE_COLUMNS = ("customer_id", "email", "arm", "assigned_at")


def write_audience_files(connection: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, Path]:
    """One CSV per experiment id (`<experiment_id>.csv`) of its live customers' standing arms; files
    of experiments no longer in the ledger are removed. Returns the files by experiment id."""
    create_ledger(connection)
    standing = connection.sql(f"""
        WITH standing AS ({STANDING_SQL})
        SELECT standing.experiment_id, standing.customer_id,
               CASE WHEN customers.is_email_marketable THEN customers.email END AS email, standing.arm, standing.assigned_at
        FROM standing JOIN marts.dim_customers AS customers USING (customer_id)
        ORDER BY standing.experiment_id, standing.customer_id""").pl()
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for (experiment_id,), rows in standing.group_by("experiment_id", maintain_order=True):
        path = folder / f"{experiment_id}.csv"
        temporary = path.with_suffix(".csv.tmp")
        rows.select(AUDIENCE_COLUMNS).with_columns(pl.col("assigned_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ")).write_csv(temporary)
        temporary.replace(path)
        written[str(experiment_id)] = path
    for stale in folder.glob("*.csv"):
        if stale.stem not in written:
            stale.unlink()
    return written
