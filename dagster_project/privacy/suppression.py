"""The erasure suppression list: salted SHA-256 hashes of the identifiers of people who asked to be
erased, and the predicate that keeps their rows out of the raw layer at ingestion and removes them
from it at erasure.

The list holds no personal data: without the salt (a secret kept apart from the warehouse) a hash
cannot be checked against a guessed email. An identifier is `<kind>:<value>`, the value normalized
as the sources write it: a trimmed, lower-case email; a CRM contact id, a Shopify order id or a
Zendesk requester id as delivered.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import duckdb

from dagster_project.warehouse import table_exists

PRIVACY_SCHEMA = "privacy"
SUPPRESSION_TABLE = f"{PRIVACY_SCHEMA}.suppression_list"

EMAIL = "email"
CRM_CONTACT = "crm_contact"
SHOPIFY_ORDER = "shopify_order"
ZENDESK_REQUESTER = "zendesk_requester"


def normalized_email_sql(expression: str) -> str:
    """dbt's `normalize_email`: whitespace collapsed and trimmed, lower case, NULL when empty."""
    return f"lower(nullif(trim(regexp_replace({expression}, '[\\s\\pZ]+', ' ', 'g')), ''))"


def _trimmed(expression: str) -> str:
    return f"nullif(trim({expression}), '')"


# Per raw table, the identifiers a row carries (SQL over the raw text columns). A Shopify line-item
# row carries its order id only (the email is on the order's first row), so orders are suppressed
# by id; a Zendesk ticket by its requester.
IDENTIFIER_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "crm_contacts": [(CRM_CONTACT, _trimmed('"Contact ID"')), (EMAIL, normalized_email_sql('"Email"'))],
    "ecommerce_orders": [(SHOPIFY_ORDER, _trimmed('"Id"')), (EMAIL, normalized_email_sql('"Email"'))],
    "email_events": [(EMAIL, normalized_email_sql("json_extract_string(payload, '$.email')"))],
    "support_tickets": [(ZENDESK_REQUESTER, _trimmed("json_extract_string(payload, '$.requester.id')")),
                        (EMAIL, normalized_email_sql("json_extract_string(payload, '$.requester.email')"))],
    # The tool's id is an email or a CRM Contact ID; each is hashed as both (the other kind matches nothing).
    "experiment_assignments": [(EMAIL, normalized_email_sql('"user_id"')), (CRM_CONTACT, _trimmed('"user_id"'))],
}
# Erasure requests are not filtered: a request is kept until it is carried out, then deleted by
# request id (dagster_project.privacy.erasure), re-delivered copies included. FX rates and products
# carry nothing that identifies a person: they are neither filtered nor erased.

# The numeric ids a quarantined row's words may be, by source (emails and CRM ids: in any source).
_QUARANTINE_KINDS: dict[str, list[str]] = {
    "ecommerce_orders": [SHOPIFY_ORDER],
    "support_tickets": [ZENDESK_REQUESTER],
}
_TOKEN_PATTERN = r"""[^\s,;:"'{}\[\]<>()]+"""
_TOKEN_LITERAL = "'" + _TOKEN_PATTERN.replace("'", "''") + "'"


def identifier_hash_sql(kind: str, value_sql: str) -> str:
    """SQL for the salted hash of one identifier of a known kind (the salt is the `$salt` parameter)."""
    return hash_sql(f"'{kind}'", value_sql)


def hash_sql(kind_sql: str, value_sql: str) -> str:
    """SQL for the salted hash of an identifier whose kind is itself an expression."""
    return f"sha256($salt || {kind_sql} || ':' || {value_sql})"


def create_privacy_tables(connection: duckdb.DuckDBPyConnection) -> None:
    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {PRIVACY_SCHEMA}")
    connection.execute(
        f"CREATE TABLE IF NOT EXISTS {SUPPRESSION_TABLE} (identifier_hash VARCHAR PRIMARY KEY, identifier_kind VARCHAR NOT NULL, "
        "request_id VARCHAR NOT NULL, added_at TIMESTAMP NOT NULL)"
    )


def suppression_list_size(connection: duckdb.DuckDBPyConnection) -> int:
    if not table_exists(connection, SUPPRESSION_TABLE):
        return 0
    return connection.execute(f"SELECT count(*) FROM {SUPPRESSION_TABLE}").fetchall()[0][0]


def row_is_suppressed_sql(source: str) -> str | None:
    """A predicate over a raw row of `source` (its columns unqualified): true when any identifier it
    carries is on the suppression list. None for a source that carries no personal identifiers (FX rates, products)."""
    columns = IDENTIFIER_COLUMNS.get(source)
    if not columns:
        return None
    return " OR ".join(f"{identifier_hash_sql(kind, value)} IN (SELECT identifier_hash FROM {SUPPRESSION_TABLE})"
                       for kind, value in columns)


def _word_hashes_sql() -> str:
    """A list expression: the hashes of one quarantined word (`token`) as each identifier it could
    be in its row's `source` (an email or a CRM id anywhere, the numeric ids of orders and tickets
    in those sources' rows)."""
    common = [identifier_hash_sql(EMAIL, "lower(token)"), identifier_hash_sql(CRM_CONTACT, "token")]
    by_source = " ".join(f"WHEN '{source}' THEN [{', '.join(common + [identifier_hash_sql(kind, 'token') for kind in kinds])}]"
                         for source, kinds in _QUARANTINE_KINDS.items())
    return f"CASE source {by_source} ELSE [{', '.join(common)}] END"


def _words_sql() -> str:
    return f"unnest(regexp_extract_all(coalesce(record, ''), {_TOKEN_LITERAL}))"


def quarantined_row_is_suppressed_sql() -> str:
    """A predicate over a quarantine row (`record` text and its `source`): true when one of its
    words hashes into the suppression list. A quarantined row could not be parsed, so its
    identifiers are looked for among its words."""
    return (f"EXISTS (SELECT 1 FROM (SELECT unnest({_word_hashes_sql()}) AS hash FROM (SELECT {_words_sql()} AS token)) "
            f"WHERE hash IN (SELECT identifier_hash FROM {SUPPRESSION_TABLE}))")


def read_or_create_salt(path: Path) -> str:
    """The suppression list's secret salt; generated, readable by its owner only, on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(secrets.token_hex(32))
        temporary.chmod(0o600)
        temporary.replace(path)
    salt = path.read_text().strip()
    if len(salt) < 16:
        raise ValueError(f"The suppression salt in {path} is too short to protect the hashes (16 characters at least).")
    return salt


def quarantine_hashes_sql(table: str = "raw.quarantine") -> str:
    """`row_id`, `hash`: each quarantined row's words hashed as the identifiers they could be."""
    return (f"SELECT row_id, unnest({_word_hashes_sql()}) AS hash FROM ("
            f"SELECT rowid AS row_id, source, {_words_sql()} AS token FROM {table})")
