"""Data-subject erasure requests as the raw layer delivers them, and the audit log's unit of work:
rows of one person deleted from one place. Neither holds personal data beyond the request's email.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from dagster_project.ingest.raw_tables import RAW_SCHEMA
from dagster_project.warehouse import table_exists

REQUESTS_TABLE = f"{RAW_SCHEMA}.privacy_erasure_requests"
STAGED_REQUESTS_TABLE = "staging.stg_privacy__erasure_requests"


@dataclass(frozen=True)
class ErasureRequest:
    request_id: str
    email: str | None
    """Normalized; None when the request carries no usable email."""
    received_at: datetime | None


@dataclass(frozen=True)
class Deletion:
    """Rows of one person removed from one place: the audit log's unit. No personal data."""

    store: str
    location: str
    rows: int


def delete_request_rows(connection: duckdb.DuckDBPyConnection, request_ids: list[str]) -> dict[str, int]:
    """Remove carried-out requests (they hold the person's email) from the raw layer, and the
    copies a re-delivered request file brings back; the rows removed per request."""
    if not table_exists(connection, REQUESTS_TABLE) or not request_ids:
        return {}
    where = "trim(request_id) IN (SELECT unnest($ids::VARCHAR[]))"
    counts = dict(connection.execute(f"SELECT trim(request_id), count(*) FROM {REQUESTS_TABLE} WHERE {where} GROUP BY ALL",
                                     {"ids": request_ids}).fetchall())
    connection.execute(f"DELETE FROM {REQUESTS_TABLE} WHERE {where}", {"ids": request_ids})
    # Staging's copy too: the erasure runs after dbt's first models have read the raw table.
    if table_exists(connection, STAGED_REQUESTS_TABLE):
        connection.execute(f"DELETE FROM {STAGED_REQUESTS_TABLE} WHERE {where}", {"ids": request_ids})
    return counts
