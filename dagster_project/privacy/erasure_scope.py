"""Who an erasure request is about: from its email to every customer id, record and identifier
the platform holds of the person, along the resolved identities and the raw rows, and the keys
(salted where they are identifiers) the deletion matches on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import polars as pl

from dagster_project.ingest.raw_tables import RAW_SCHEMA
from dagster_project.privacy.audit_log import PARTIAL, PROCESSED_TABLE
from dagster_project.privacy.erasure_requests import REQUESTS_TABLE, ErasureRequest
from dagster_project.privacy.suppression import (
    CRM_CONTACT,
    EMAIL,
    IDENTIFIER_COLUMNS,
    SHOPIFY_ORDER,
    ZENDESK_REQUESTER,
    hash_sql,
    normalized_email_sql,
)
from dagster_project.warehouse import frames_registered, table_exists

# A record id is `<source>:<key>` (dbt's int_identity_nodes); the identifier kind each source's key is.
_RECORD_KINDS = {"crm_contact": CRM_CONTACT, "shopify_order": SHOPIFY_ORDER, "zendesk_requester": ZENDESK_REQUESTER,
                 "sendgrid_recipient": EMAIL}

# A record's phone: a key of model rows (the identity graph's shared identifiers), not an
# identifier the suppression list filters exports on.
PHONE = "phone"
_ASSIGNMENTS = "identity.customer_id_assignments"
_RETIRED = "identity.retired_customer_ids"
_NODES = "intermediate.int_identity_nodes"


@dataclass
class Person:
    """Everything the platform holds that identifies one data subject."""

    customer_ids: set[str] = field(default_factory=set)
    record_ids: set[str] = field(default_factory=set)
    identifiers: set[tuple[str, str]] = field(default_factory=set)
    """(kind, value) pairs, e.g. ("email", "ada@example.com")."""


def identify_people(connection: duckdb.DuckDBPyConnection, requests: list[ErasureRequest]) -> dict[str, Person]:
    """For each request with an email, the customers, records and identifiers it leads to; all
    requests at once, so a night with many costs a few scans, not a few per request."""
    seeds = pl.DataFrame({"request_id": [r.request_id for r in requests], "kind": EMAIL, "value": [r.email for r in requests]},
                         schema={"request_id": pl.String, "kind": pl.String, "value": pl.String})
    with frames_registered(connection, erasure_seed_frame=seeds):
        connection.execute("CREATE OR REPLACE TEMP TABLE erasure_identifiers AS SELECT DISTINCT * FROM erasure_seed_frame")
    connection.execute("CREATE OR REPLACE TEMP TABLE erasure_customers (request_id VARCHAR, customer_id VARCHAR)")
    connection.execute("CREATE OR REPLACE TEMP TABLE erasure_records (request_id VARCHAR, record_id VARCHAR)")
    if table_exists(connection, _ASSIGNMENTS) and table_exists(connection, _NODES):
        _follow_resolved_identities(connection)
    _widen_with_raw_rows(connection)
    people = {request.request_id: Person() for request in requests}
    for request_id, kind, value in connection.execute("SELECT * FROM erasure_identifiers").fetchall():
        people[request_id].identifiers.add((kind, value))
    for request_id, customer in connection.execute("SELECT * FROM erasure_customers").fetchall():
        people[request_id].customer_ids.add(customer)
    for request_id, record in connection.execute("SELECT * FROM erasure_records").fetchall():
        people[request_id].record_ids.add(record)
    if table_exists(connection, _NODES):
        for request_id, phone in connection.execute(f"SELECT DISTINCT records.request_id, nodes.phone_e164 FROM erasure_records AS records "
                                                    f"JOIN {_NODES} AS nodes USING (record_id) WHERE nodes.phone_e164 IS NOT NULL").fetchall():
            people[request_id].identifiers.add((PHONE, phone))
    return people


def _follow_resolved_identities(connection: duckdb.DuckDBPyConnection) -> None:
    """The customers whose records carry a request's email (as the last run resolved them), their
    ids retired by merges, their records, and those records' keys and emails."""
    connection.execute(f"""
        INSERT INTO erasure_customers
        SELECT DISTINCT seeds.request_id, assignments.customer_id
        FROM erasure_identifiers AS seeds
        JOIN (SELECT record_id, email AS value FROM {_NODES} WHERE email IS NOT NULL
              UNION ALL SELECT record_id, source_key FROM {_NODES} WHERE source = 'sendgrid_recipient') AS nodes USING (value)
        JOIN {_ASSIGNMENTS} AS assignments USING (record_id)
    """)
    connection.execute(f"""
        INSERT INTO erasure_records
        SELECT DISTINCT customers.request_id, assignments.record_id
        FROM erasure_customers AS customers JOIN {_ASSIGNMENTS} AS assignments USING (customer_id)
    """)
    if table_exists(connection, _RETIRED):
        connection.execute(f"""
            INSERT INTO erasure_customers
            SELECT DISTINCT customers.request_id, retired.retired_customer_id
            FROM erasure_customers AS customers JOIN {_RETIRED} AS retired ON retired.current_customer_id = customers.customer_id
        """)
    kinds = " ".join(f"WHEN '{source}' THEN '{kind}'" for source, kind in _RECORD_KINDS.items())
    connection.execute(f"""
        INSERT INTO erasure_identifiers
        SELECT request_id, CASE split_part(record_id, ':', 1) {kinds} END, substr(record_id, strpos(record_id, ':') + 1)
        FROM erasure_records WHERE split_part(record_id, ':', 1) IN (SELECT unnest($sources::VARCHAR[]))
        UNION
        SELECT records.request_id, '{EMAIL}', nodes.email
        FROM erasure_records AS records JOIN {_NODES} AS nodes USING (record_id) WHERE nodes.email IS NOT NULL
        EXCEPT SELECT * FROM erasure_identifiers
    """, {"sources": list(_RECORD_KINDS)})


def _widen_with_raw_rows(connection: duckdb.DuckDBPyConnection) -> None:
    """Add the ids of raw rows that carry one of a person's emails and the emails of raw rows that
    carry one of their ids (rows delivered since the last resolution, an email a contact held
    before it changed), until nothing new turns up."""
    pairs = [f"SELECT DISTINCT '{columns[0][0]}' AS kind_a, {columns[0][1]} AS value_a, '{kind}' AS kind_b, {value} AS value_b "
             f"FROM {RAW_SCHEMA}.{source}"
             for source, columns in IDENTIFIER_COLUMNS.items() if table_exists(connection, f"{RAW_SCHEMA}.{source}")
             for kind, value in columns[1:]]
    if not pairs:
        return
    connection.execute(f"CREATE OR REPLACE TEMP TABLE erasure_raw_links AS SELECT * FROM ({' UNION '.join(pairs)}) "
                       "WHERE value_a IS NOT NULL AND value_b IS NOT NULL")
    for _ in range(4):
        (added,) = connection.execute("""
            INSERT INTO erasure_identifiers
            SELECT DISTINCT * FROM (
                SELECT known.request_id, links.kind_b, links.value_b FROM erasure_identifiers AS known
                JOIN erasure_raw_links AS links ON links.kind_a = known.kind AND links.value_a = known.value
                UNION ALL
                SELECT known.request_id, links.kind_a, links.value_a FROM erasure_identifiers AS known
                JOIN erasure_raw_links AS links ON links.kind_b = known.kind AND links.value_b = known.value
            ) EXCEPT SELECT * FROM erasure_identifiers
        """).fetchall()[0]
        if not added:
            return


def identity_is_resolved(connection: duckdb.DuckDBPyConnection) -> bool:
    """Whether an earlier run resolved identities: until then a request reaches only the rows that
    share an email or an id with it."""
    return table_exists(connection, _ASSIGNMENTS) and connection.execute(f"SELECT count(*) FROM {_ASSIGNMENTS}").fetchall()[0][0] > 0


def pending_requests(connection: duckdb.DuckDBPyConnection, include_partial: bool) -> list[ErasureRequest]:
    """Requests in the raw layer no earlier run carried out (and, given `include_partial`, those a
    first load could carry out only in part), first received first."""
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


def register_erasure_keys(connection: duckdb.DuckDBPyConnection, people: dict[str, Person], salt: str) -> None:
    """`erasure_keys`: every identifier, customer id and record id of the people, each owned by the
    first request that reached it, with the salted hash of the identifiers."""
    rows: dict[tuple[str, str], str] = {}
    for request_id, person in people.items():
        for kind, value in [*sorted(person.identifiers), *(("customer", c) for c in sorted(person.customer_ids)),
                            *(("record", r) for r in sorted(person.record_ids))]:
            rows.setdefault((kind, value), request_id)
    frame = pl.DataFrame({"request_id": list(rows.values()), "kind": [k for k, _ in rows], "value": [v for _, v in rows]},
                         schema={"request_id": pl.String, "kind": pl.String, "value": pl.String})
    with frames_registered(connection, erasure_key_frame=frame):
        connection.execute(
            f"CREATE OR REPLACE TEMP TABLE erasure_keys AS SELECT request_id, kind, value, "
            f"CASE WHEN kind IN ('customer', 'record') THEN NULL ELSE {hash_sql('kind', 'value')} END AS identifier_hash "
            "FROM erasure_key_frame", {"salt": salt})
