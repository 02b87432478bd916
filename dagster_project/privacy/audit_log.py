"""The erasure audit log: which request was processed when, with what outcome, and how many rows
were deleted where. It holds request ids, times and counts: no personal data, not even a customer id."""

from __future__ import annotations

from datetime import datetime

import duckdb
import polars as pl

from dagster_project.privacy.erasure_requests import Deletion, ErasureRequest
from dagster_project.privacy.suppression import PRIVACY_SCHEMA
from dagster_project.warehouse import frames_registered

PROCESSED_TABLE = f"{PRIVACY_SCHEMA}.erasure_requests_processed"
AUDIT_LOG_TABLE = f"{PRIVACY_SCHEMA}.erasure_audit_log"

ERASED = "erased"
PARTIAL = "partial: identities not resolved yet; completed by the next run"
NOTHING_HELD = "nothing held; email suppressed"
NO_EMAIL = "no valid email: nothing could be identified"


def create_audit_tables(connection: duckdb.DuckDBPyConnection) -> None:
    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {PRIVACY_SCHEMA}")
    connection.execute(
        f"CREATE TABLE IF NOT EXISTS {PROCESSED_TABLE} (request_id VARCHAR PRIMARY KEY, received_at TIMESTAMP, "
        "processed_at TIMESTAMP NOT NULL, outcome VARCHAR NOT NULL, customers_erased INTEGER NOT NULL, "
        "identifiers_suppressed INTEGER NOT NULL, rows_deleted BIGINT NOT NULL)"
    )
    connection.execute(
        f"CREATE TABLE IF NOT EXISTS {AUDIT_LOG_TABLE} (request_id VARCHAR NOT NULL, processed_at TIMESTAMP NOT NULL, "
        "store VARCHAR NOT NULL, location VARCHAR NOT NULL, rows_deleted BIGINT NOT NULL)"
    )


def record_erasure(connection: duckdb.DuckDBPyConnection, request: ErasureRequest, processed_at: datetime, outcome: str,
                   customers: int, identifiers: int, deletions: list[Deletion]) -> None:
    """One processed request and a line per place its person's rows were deleted from. A request a
    first load carried out in part keeps one row, its counts adding up over both runs."""
    earlier = connection.execute(f"SELECT identifiers_suppressed, rows_deleted FROM {PROCESSED_TABLE} WHERE request_id = ?",
                                 [request.request_id]).fetchall()
    identifiers_before, rows_before = earlier[0] if earlier else (0, 0)
    connection.execute(f"INSERT OR REPLACE INTO {PROCESSED_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?)", [
        request.request_id, request.received_at, processed_at, outcome, customers, identifiers_before + identifiers,
        rows_before + sum(deletion.rows for deletion in deletions)])
    if deletions:
        lines = pl.DataFrame({"request_id": request.request_id, "processed_at": processed_at,
                              "store": [d.store for d in deletions], "location": [d.location for d in deletions],
                              "rows_deleted": [d.rows for d in deletions]})
        with frames_registered(connection, audit_lines=lines):
            connection.execute(f"INSERT INTO {AUDIT_LOG_TABLE} BY NAME SELECT * FROM audit_lines")


def rows_deleted_before(connection: duckdb.DuckDBPyConnection, request_id: str) -> int:
    """Rows an earlier run deleted for the request (a first load's partial erasure)."""
    rows = connection.execute(f"SELECT rows_deleted FROM {PROCESSED_TABLE} WHERE request_id = ?", [request_id]).fetchall()
    return int(rows[0][0]) if rows else 0


def read_audit_log(connection: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every processed request with its deletions, newest first (the tables must exist: any run creates them)."""
    return connection.sql(
        f"SELECT p.request_id, p.received_at, p.processed_at, p.outcome, l.store, l.location, l.rows_deleted "
        f"FROM {PROCESSED_TABLE} AS p LEFT JOIN {AUDIT_LOG_TABLE} AS l USING (request_id) "
        "ORDER BY p.processed_at DESC, p.request_id, l.store, l.location"
    ).pl()
