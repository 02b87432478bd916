"""The identity state kept between runs in the warehouse's `identity` schema."""

from datetime import datetime, timezone

import duckdb
import polars as pl

from dagster_project.identity.customer_ids import ASSIGNMENT_SCHEMA, EVENT_SCHEMA, RETIRED_SCHEMA, CustomerIdAssignment
from dagster_project.warehouse import transaction_with_frames

# The identity graph dbt builds (intermediate schema, dbt_project.yml) and this stage reads.
NODES_TABLE = "intermediate.int_identity_nodes"
DETERMINISTIC_EDGES_TABLE = "intermediate.int_identity_edges_deterministic"
ASSESSED_IDENTIFIERS_TABLE = "intermediate.int_identity_identifiers_assessed"

IDENTITY_SCHEMA = "identity"
MATCH_PAIRS_TABLE = f"{IDENTITY_SCHEMA}.probabilistic_match_pairs"
ASSIGNMENTS_TABLE = f"{IDENTITY_SCHEMA}.customer_id_assignments"
EVENTS_TABLE = f"{IDENTITY_SCHEMA}.customer_id_events"
RETIRED_TABLE = f"{IDENTITY_SCHEMA}.retired_customer_ids"

_DDL = {
    ASSIGNMENTS_TABLE: "record_id VARCHAR PRIMARY KEY, customer_id VARCHAR NOT NULL, customer_created_at TIMESTAMP NOT NULL",
    EVENTS_TABLE: "event_type VARCHAR NOT NULL, customer_id VARCHAR NOT NULL, related_customer_id VARCHAR, "
    "record_count BIGINT NOT NULL, happened_at TIMESTAMP NOT NULL",
    RETIRED_TABLE: "retired_customer_id VARCHAR PRIMARY KEY, current_customer_id VARCHAR NOT NULL, retired_at TIMESTAMP NOT NULL",
}


def create_identity_tables(connection: duckdb.DuckDBPyConnection) -> None:
    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {IDENTITY_SCHEMA}")
    for table, columns in _DDL.items():
        connection.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")


def read_previous_state(connection: duckdb.DuckDBPyConnection) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The last run's assignments and retired ids (empty on the first run)."""
    create_identity_tables(connection)
    assignments = connection.sql(f"SELECT record_id, customer_id, customer_created_at FROM {ASSIGNMENTS_TABLE}").pl()
    retired = connection.sql(f"SELECT retired_customer_id, current_customer_id, retired_at FROM {RETIRED_TABLE}").pl()
    return assignments.cast(ASSIGNMENT_SCHEMA), retired.cast(RETIRED_SCHEMA)


def write_state(connection: duckdb.DuckDBPyConnection, outcome: CustomerIdAssignment) -> None:
    """Replace assignments and the retired map, append this run's events: one transaction."""
    with transaction_with_frames(
        connection, new_assignments=outcome.assignments, new_events=outcome.events.cast(EVENT_SCHEMA), new_retired=outcome.retired
    ):
        # Recreated rather than emptied: DuckDB commits a DELETE and re-INSERT of the same primary
        # keys slowly (37 s against 2 s for 1M assignments).
        connection.execute(f"CREATE OR REPLACE TABLE {ASSIGNMENTS_TABLE} ({_DDL[ASSIGNMENTS_TABLE]})")
        connection.execute(f"INSERT INTO {ASSIGNMENTS_TABLE} BY NAME SELECT * FROM new_assignments")
        connection.execute(f"INSERT INTO {EVENTS_TABLE} BY NAME SELECT * FROM new_events")
        connection.execute(f"CREATE OR REPLACE TABLE {RETIRED_TABLE} ({_DDL[RETIRED_TABLE]})")
        connection.execute(f"INSERT INTO {RETIRED_TABLE} BY NAME SELECT * FROM new_retired")


def run_time() -> datetime:
    """Naive UTC, like every timestamp in the warehouse."""
    return datetime.now(timezone.utc).replace(tzinfo=None)
