"""Right to erasure in the warehouse: who a request identifies, their salted hashes on the
suppression list, and every row of theirs deleted from the raw layer, the quarantine, the identity
state and every model table.

A request names an email. The person is everything the platform holds with it: the customers whose
records carry the email (after identity resolution, so an order placed without the email but
matched to them goes too), and the raw rows that share an id or an email with those records
(rows delivered since the last resolution, and an email a contact held before it changed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import polars as pl

from dagster_project.defs.ingest.contracts import SOURCE_CONTRACTS
from dagster_project.defs.ingest.raw_tables import QUARANTINE_TABLE, RAW_SCHEMA, raw_table
from dagster_project.defs.privacy.suppression import (
    CRM_CONTACT, EMAIL, IDENTIFIER_COLUMNS, PRIVACY_SCHEMA, SHOPIFY_ORDER, SUPPRESSION_TABLE, ZENDESK_REQUESTER,
    hash_sql, normalized_email_sql, quarantined_row_is_suppressed_sql, row_is_suppressed_sql,
)

# A record id is `<source>:<key>` (dbt's int_identity_nodes); the identifier kind each source's key is.
_RECORD_KINDS = {"crm_contact": CRM_CONTACT, "shopify_order": SHOPIFY_ORDER, "zendesk_requester": ZENDESK_REQUESTER,
                 "sendgrid_recipient": EMAIL}
_ASSIGNMENTS = "identity.customer_id_assignments"
_RETIRED = "identity.retired_customer_ids"
_NODES = "intermediate.int_identity_nodes"
# Model tables are rebuilt from the raw layer by the same run's dbt build; they are cleaned here
# too, so a failed build cannot leave the person in them. By column: what of the person it holds.
_KEY_COLUMNS = {"customer_id": "customer", "related_customer_id": "customer", "current_customer_id": "customer",
                "retired_customer_id": "customer", "record_id": "record", "record_id_l": "record", "record_id_r": "record",
                "contact_id": CRM_CONTACT, "order_id": SHOPIFY_ORDER, "requester_id": ZENDESK_REQUESTER,
                "email_normalized": EMAIL}
_SKIPPED_SCHEMAS = (RAW_SCHEMA, PRIVACY_SCHEMA, "seeds", "information_schema", "pg_catalog")
_HASHES = "erasure_hashes"
REQUESTS_TABLE = f"{RAW_SCHEMA}.privacy_erasure_requests"


@dataclass(frozen=True)
class ErasureRequest:
    request_id: str
    email: str | None
    """Normalized; None when the request carries no usable email."""
    received_at: datetime | None


@dataclass
class Person:
    """Everything the platform holds that identifies one data subject."""

    customer_ids: set[str] = field(default_factory=set)
    record_ids: set[str] = field(default_factory=set)
    identifiers: set[tuple[str, str]] = field(default_factory=set)
    """(kind, value) pairs, e.g. ("email", "ada@example.com")."""

    def values(self, kind: str) -> list[str]:
        return sorted(value for identifier_kind, value in self.identifiers if identifier_kind == kind)


@dataclass(frozen=True)
class Deletion:
    """Rows of one person removed from one place: the audit log's unit. No personal data."""

    store: str
    location: str
    rows: int


def table_exists(connection: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, table = qualified.split(".")
    return connection.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                              [schema, table]).fetchall()[0][0] > 0


def identify_person(connection: duckdb.DuckDBPyConnection, email: str) -> Person:
    """The customers, records and identifiers an erasure request's email leads to."""
    person = Person(identifiers={(EMAIL, email)})
    if table_exists(connection, _ASSIGNMENTS) and table_exists(connection, _NODES):
        seeds = connection.execute(
            f"SELECT DISTINCT assignments.customer_id FROM {_ASSIGNMENTS} AS assignments JOIN {_NODES} AS nodes USING (record_id) "
            "WHERE nodes.email = $email OR nodes.record_id = 'sendgrid_recipient:' || $email", {"email": email}
        ).fetchall()
        person.customer_ids = {customer for (customer,) in seeds}
        if person.customer_ids:
            records = connection.execute(
                f"SELECT record_id FROM {_ASSIGNMENTS} WHERE customer_id IN (SELECT unnest($ids::VARCHAR[]))",
                {"ids": sorted(person.customer_ids)}).fetchall()
            person.record_ids = {record for (record,) in records}
            emails = connection.execute(f"SELECT DISTINCT email FROM {_NODES} WHERE email IS NOT NULL AND record_id IN "
                                        "(SELECT unnest($records::VARCHAR[]))", {"records": sorted(person.record_ids)}).fetchall()
            person.identifiers |= {(EMAIL, value) for (value,) in emails}
            person.identifiers |= {(_RECORD_KINDS[source], key) for source, _, key in
                                   (record.partition(":") for record in person.record_ids) if source in _RECORD_KINDS}
        if table_exists(connection, _RETIRED) and person.customer_ids:
            retired = connection.execute(f"SELECT retired_customer_id FROM {_RETIRED} WHERE current_customer_id IN "
                                         "(SELECT unnest($ids::VARCHAR[]))", {"ids": sorted(person.customer_ids)}).fetchall()
            person.customer_ids |= {customer for (customer,) in retired}
    _widen_with_raw_rows(connection, person)
    return person


def _widen_with_raw_rows(connection: duckdb.DuckDBPyConnection, person: Person) -> None:
    """Add the ids of raw rows that carry one of the person's emails and the emails of raw rows that
    carry one of their ids, until nothing new turns up."""
    for _ in range(4):
        before = len(person.identifiers)
        for source, columns in IDENTIFIER_COLUMNS.items():
            table = f"{RAW_SCHEMA}.{source}"
            if len(columns) < 2 or not table_exists(connection, table):
                continue
            # Each row's identifiers side by side; a row sharing any with the person adds the rest.
            selects = ", ".join(f"{value} AS c{index}" for index, (_, value) in enumerate(columns))
            known = " OR ".join(f"c{index} IN (SELECT unnest($k{index}::VARCHAR[]))" for index in range(len(columns)))
            parameters = {f"k{index}": person.values(kind) for index, (kind, _) in enumerate(columns)}
            rows = connection.execute(f"SELECT DISTINCT * FROM (SELECT {selects} FROM {table}) WHERE {known}", parameters).fetchall()
            for row in rows:
                person.identifiers |= {(kind, value) for (kind, _), value in zip(columns, row) if value is not None}
        if len(person.identifiers) == before:
            return


def identity_is_resolved(connection: duckdb.DuckDBPyConnection) -> bool:
    """Whether an earlier run resolved identities: until then a request reaches only the rows that
    share an email or an id with it."""
    return table_exists(connection, _ASSIGNMENTS) and connection.execute(f"SELECT count(*) FROM {_ASSIGNMENTS}").fetchall()[0][0] > 0


def pending_requests(connection: duckdb.DuckDBPyConnection, include_partial: bool) -> list[ErasureRequest]:
    """Requests in the raw layer no earlier run carried out (and, given `include_partial`, those a
    first load could carry out only in part), first received first."""
    from dagster_project.defs.privacy.audit_log import PARTIAL, PROCESSED_TABLE

    if not table_exists(connection, REQUESTS_TABLE):
        return []
    rows = connection.execute(f"""
        SELECT request_id, any_value(email) AS email, min(received_at) AS received_at FROM (
            SELECT nullif(trim(request_id), '') AS request_id, {normalized_email_sql('email')} AS email,
                   try_cast(received_at AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS received_at
            FROM {REQUESTS_TABLE}
        )
        WHERE request_id IS NOT NULL AND request_id NOT IN (
            SELECT request_id FROM {PROCESSED_TABLE} WHERE outcome <> '{PARTIAL}' OR NOT $include_partial)
        GROUP BY request_id ORDER BY received_at NULLS LAST, request_id
    """, {"include_partial": include_partial}).fetchall()
    return [ErasureRequest(request_id, email, received_at) for request_id, email, received_at in rows]


def delete_request_rows(connection: duckdb.DuckDBPyConnection, request_ids: list[str]) -> int:
    """Remove carried-out requests (they hold the person's email) from the raw layer, and the
    copies a re-delivered request file brings back."""
    if not table_exists(connection, REQUESTS_TABLE) or not request_ids:
        return 0
    return _delete(connection, REQUESTS_TABLE, "trim(request_id) IN (SELECT unnest($ids::VARCHAR[]))", {"ids": request_ids})


def add_to_suppression_list(connection: duckdb.DuckDBPyConnection, request_id: str, person: Person, salt: str, now: datetime) -> int:
    """Put the person's salted hashes on the suppression list; returns how many were new."""
    identifiers = pl.DataFrame(sorted(person.identifiers), schema=["kind", "value"], orient="row")
    connection.register("person_identifiers", identifiers.to_arrow())
    try:
        (before,) = connection.execute(f"SELECT count(*) FROM {SUPPRESSION_TABLE}").fetchall()[0]
        connection.execute(
            f"INSERT OR IGNORE INTO {SUPPRESSION_TABLE} SELECT {hash_sql('kind', 'value')}, "
            "kind, $request, $now FROM person_identifiers", {"salt": salt, "request": request_id, "now": now})
        (after,) = connection.execute(f"SELECT count(*) FROM {SUPPRESSION_TABLE}").fetchall()[0]
        connection.execute(f"CREATE OR REPLACE TEMP TABLE {_HASHES} AS SELECT {hash_sql('kind', 'value')} AS identifier_hash "
                           "FROM person_identifiers", {"salt": salt})
    finally:
        connection.unregister("person_identifiers")
    return after - before


def erase_from_warehouse(connection: duckdb.DuckDBPyConnection, person: Person, salt: str) -> list[Deletion]:
    """Delete the person's rows from every table of the warehouse (after `add_to_suppression_list`,
    whose temporary table of this person's hashes the raw layer is matched against)."""
    deletions = []
    for contract in SOURCE_CONTRACTS:
        predicate = row_is_suppressed_sql(contract.name, _HASHES)
        if predicate and table_exists(connection, raw_table(contract)):
            deletions.append(Deletion("warehouse", raw_table(contract), _delete(connection, raw_table(contract), predicate, {"salt": salt})))
    if table_exists(connection, QUARANTINE_TABLE):
        deletions.append(Deletion("warehouse", QUARANTINE_TABLE,
                                  _delete(connection, QUARANTINE_TABLE, quarantined_row_is_suppressed_sql("source", _HASHES), {"salt": salt})))
    values = {"customer": sorted(person.customer_ids), "record": sorted(person.record_ids),
              **{kind: person.values(kind) for kind in (CRM_CONTACT, SHOPIFY_ORDER, ZENDESK_REQUESTER, EMAIL)}}
    columns = connection.execute(
        "SELECT table_schema, table_name, list(column_name) FROM information_schema.columns JOIN information_schema.tables "
        "USING (table_catalog, table_schema, table_name) WHERE table_type = 'BASE TABLE' AND table_schema NOT IN "
        "(SELECT unnest($skipped::VARCHAR[])) AND column_name IN (SELECT unnest($keys::VARCHAR[])) GROUP BY ALL ORDER BY ALL",
        {"skipped": list(_SKIPPED_SCHEMAS), "keys": list(_KEY_COLUMNS)},
    ).fetchall()
    for schema, table, names in columns:
        conditions = [f'CAST("{name}" AS VARCHAR) IN (SELECT unnest(${name}::VARCHAR[]))' for name in sorted(names)]
        parameters = {name: values[_KEY_COLUMNS[name]] for name in sorted(names)}
        deletions.append(Deletion("warehouse", f"{schema}.{table}", _delete(connection, f'"{schema}"."{table}"', " OR ".join(conditions), parameters)))
    return [deletion for deletion in deletions if deletion.rows]


def _delete(connection: duckdb.DuckDBPyConnection, table: str, predicate: str, parameters: dict) -> int:
    (count,) = connection.execute(f"DELETE FROM {table} WHERE coalesce({predicate}, false)", parameters).fetchall()[0]
    return int(count)
