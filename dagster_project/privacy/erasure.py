"""Right to erasure in the warehouse: who a request identifies, their salted hashes on the
suppression list, and every row of theirs deleted from the raw layer, the quarantine, the identity
state and every model table.

A request names an email. The person is everything the platform holds with it: the customers whose
records carry the email (after identity resolution, so an order placed without the email but
matched to them goes too), and the raw rows that share an id or an email with those records
(rows delivered since the last resolution, and an email a contact held before it changed).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import duckdb

from dagster_project.ingest.contracts import SOURCE_CONTRACTS
from dagster_project.ingest.raw_tables import QUARANTINE_TABLE, RAW_SCHEMA, raw_table
from dagster_project.privacy.erasure_requests import Deletion
from dagster_project.privacy.suppression import (
    CRM_CONTACT,
    EMAIL,
    IDENTIFIER_COLUMNS,
    PRIVACY_SCHEMA,
    SHOPIFY_ORDER,
    SUPPRESSION_TABLE,
    ZENDESK_REQUESTER,
    identifier_hash_sql,
    quarantine_hashes_sql,
)
from dagster_project.warehouse import table_exists

# Model tables are rebuilt from the raw layer by the same run's dbt build; they are cleaned here
# too, so a failed build cannot leave the person in them. By column: what of the person it holds.
_KEY_COLUMNS = {"customer_id": "customer", "related_customer_id": "customer", "current_customer_id": "customer",
                "retired_customer_id": "customer", "record_id": "record", "record_id_l": "record", "record_id_r": "record",
                "contact_id": CRM_CONTACT, "order_id": SHOPIFY_ORDER, "requester_id": ZENDESK_REQUESTER,
                "email_normalized": EMAIL, "ticket_id": "zendesk_ticket"}
# Ids of the person's raw rows that key model rows without naming the person (a ticket's versions
# hold its ticket id, not its requester): taken from the raw rows before they are deleted.
_ROW_KEYS = {"support_tickets": ("zendesk_ticket", "json_extract_string(payload, '$.id')")}
_SKIPPED_SCHEMAS = (RAW_SCHEMA, PRIVACY_SCHEMA, "seeds", "information_schema", "pg_catalog")


def add_to_suppression_list(connection: duckdb.DuckDBPyConnection, now: datetime) -> dict[str, int]:
    """Put the people's salted hashes (`register_erasure_keys`) on the suppression list; per request, how many were new."""
    added = dict(connection.execute(
        f"SELECT request_id, count(*) FROM erasure_keys WHERE identifier_hash IS NOT NULL "
        f"AND identifier_hash NOT IN (SELECT identifier_hash FROM {SUPPRESSION_TABLE}) GROUP BY ALL").fetchall())
    connection.execute(f"INSERT OR IGNORE INTO {SUPPRESSION_TABLE} SELECT identifier_hash, kind, request_id, $now "
                       "FROM erasure_keys WHERE identifier_hash IS NOT NULL", {"now": now})
    return added


def erase_from_warehouse(connection: duckdb.DuckDBPyConnection, salt: str) -> dict[str, list[Deletion]]:
    """Delete the people of `register_erasure_keys` from every table of the warehouse; per request,
    the rows deleted where. Each table is read once for all requests."""
    deletions: dict[str, list[Deletion]] = defaultdict(list)
    for contract in SOURCE_CONTRACTS:
        columns = IDENTIFIER_COLUMNS.get(contract.name)
        table = raw_table(contract)
        if columns and table_exists(connection, table):
            hashes = ", ".join(identifier_hash_sql(kind, value) for kind, value in columns)
            if contract.name in _ROW_KEYS:
                kind, key = _ROW_KEYS[contract.name]
                connection.execute(f"""
                    INSERT INTO erasure_keys
                    SELECT DISTINCT keys.request_id, '{kind}', rows.row_key, NULL
                    FROM (SELECT {key} AS row_key, unnest([{hashes}]) AS hash FROM {table}) AS rows
                    JOIN erasure_keys AS keys ON keys.identifier_hash = rows.hash WHERE rows.row_key IS NOT NULL""", {"salt": salt})
            _delete_matches(connection, table, f"""
                SELECT row_id, keys.request_id FROM (SELECT rowid AS row_id, unnest([{hashes}]) AS hash FROM {table}) AS rows
                JOIN erasure_keys AS keys ON keys.identifier_hash = rows.hash""", {"salt": salt}, deletions)
    if table_exists(connection, QUARANTINE_TABLE):
        _delete_matches(connection, QUARANTINE_TABLE, f"""
            SELECT row_id, keys.request_id FROM ({quarantine_hashes_sql()}) AS rows
            JOIN erasure_keys AS keys ON keys.identifier_hash = rows.hash""", {"salt": salt}, deletions)
    tables = connection.execute(
        "SELECT table_schema, table_name, list(column_name ORDER BY column_name) FROM information_schema.columns "
        "JOIN information_schema.tables USING (table_catalog, table_schema, table_name) WHERE table_type = 'BASE TABLE' "
        "AND table_schema NOT IN (SELECT unnest($skipped::VARCHAR[])) AND column_name IN (SELECT unnest($keys::VARCHAR[])) "
        "GROUP BY ALL ORDER BY ALL",
        {"skipped": list(_SKIPPED_SCHEMAS), "keys": list(_KEY_COLUMNS)},
    ).fetchall()
    typed = connection.execute(
        "SELECT table_schema, table_name FROM information_schema.columns JOIN information_schema.tables "
        "USING (table_catalog, table_schema, table_name) WHERE table_type = 'BASE TABLE' AND table_schema NOT IN "
        "(SELECT unnest($skipped::VARCHAR[])) AND column_name IN ('identifier_type', 'identifier') GROUP BY ALL HAVING count(*) = 2",
        {"skipped": list(_SKIPPED_SCHEMAS)}).fetchall()
    for schema, table in typed:  # the identity graph's shared identifiers: an email or a phone per row
        qualified = f'"{schema}"."{table}"'
        _delete_matches(connection, qualified, f"SELECT rows.rowid AS row_id, keys.request_id FROM {qualified} AS rows JOIN erasure_keys AS keys "
                        "ON keys.kind = rows.identifier_type AND keys.value = rows.identifier", {}, deletions, location=f"{schema}.{table}")
    for schema, table, names in tables:
        qualified = f'"{schema}"."{table}"'
        matches = " UNION ALL ".join(
            f"SELECT rows.rowid AS row_id, keys.request_id FROM {qualified} AS rows JOIN erasure_keys AS keys "
            f"ON keys.kind = '{_KEY_COLUMNS[name]}' AND keys.value = CAST(rows.\"{name}\" AS VARCHAR)" for name in names)
        _delete_matches(connection, qualified, matches, {}, deletions, location=f"{schema}.{table}")
    return dict(deletions)


def _delete_matches(connection: duckdb.DuckDBPyConnection, table: str, matches_sql: str, parameters: dict,
                    deletions: dict[str, list[Deletion]], location: str | None = None) -> None:
    """Delete the rows `matches_sql` finds (`row_id`, `request_id`); a row two requests reach counts for one."""
    connection.execute(f"CREATE OR REPLACE TEMP TABLE erasure_matches AS SELECT row_id, min(request_id) AS request_id "
                       f"FROM ({matches_sql}) GROUP BY row_id", parameters)
    for request_id, rows in connection.execute("SELECT request_id, count(*) FROM erasure_matches GROUP BY ALL ORDER BY ALL").fetchall():
        deletions[request_id].append(Deletion("warehouse", location or table, int(rows)))
    connection.execute(f"DELETE FROM {table} WHERE rowid IN (SELECT row_id FROM erasure_matches)")
