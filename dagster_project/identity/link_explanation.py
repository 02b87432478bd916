"""Why records are one customer: the rule or the Splink evidence behind every link.

Reads what the pipeline left in the warehouse (the identity graph, Splink's scored pairs with
per-comparison match weights, the customer ids and their history) and explains

- a customer: its records, each accepted link between them, and the id's merge/split history;
- two records: whether they are one customer, the chain of accepted links that joins them,
  and everything known about the pair itself (a trusted or distrusted shared identifier,
  Splink's score and weights, or that no blocking rule made them a candidate pair).
"""

from collections import deque
from dataclasses import dataclass, field

import duckdb
import polars as pl

from dagster_project.identity.identity_graph import graph_edges
from dagster_project.identity.identity_state import (
    ASSESSED_IDENTIFIERS_TABLE,
    ASSIGNMENTS_TABLE,
    DETERMINISTIC_EDGES_TABLE,
    EVENTS_TABLE,
    MATCH_PAIRS_TABLE,
    NODES_TABLE,
    RETIRED_TABLE,
)
from dagster_project.warehouse import frames_registered, table_exists

_DETERMINISTIC_SCHEMA = {"record_id_l": pl.String, "record_id_r": pl.String, "match_type": pl.String, "identifier": pl.String}

# Node attributes shown beside each other when two records are compared.
COMPARED_ATTRIBUTES = ("first_name", "last_name", "email", "phone_e164", "street", "postcode", "city", "country_code", "birthdate")


class ExplanationError(LookupError):
    """A record or customer the warehouse does not know, or a warehouse without resolved identities."""


@dataclass(frozen=True)
class Link:
    """One accepted or candidate edge between two records, and the evidence for it."""

    record_id_l: str
    record_id_r: str
    kind: str
    """`email` or `phone` (a deterministic rule), or `probabilistic`."""
    identifier: str | None = None
    """The shared email or phone of a deterministic link."""
    match_probability: float | None = None
    match_weight: float | None = None
    comparison_weights: dict[str, float] = field(default_factory=dict)
    """Splink's match weight per comparison (term-frequency adjustment included)."""
    is_accepted: bool = True
    decision: str | None = None
    """Why a scored pair is or is not an edge: `accepted`, `accepted: cluster evidence`, `kept apart: …` (the household guard), `below threshold`."""

    def describe(self) -> str:
        if self.kind == "probabilistic":
            verdict = self.decision or ("accepted" if self.is_accepted else "not accepted")
            return f"Splink match, probability {self.match_probability:.4f}, total weight {self.match_weight:+.2f} ({verdict})"
        overruled = "" if self.is_accepted else f", overruled: {self.decision}"
        return f"same {self.kind} {self.identifier} (deterministic rule{overruled})"


@dataclass(frozen=True)
class CustomerExplanation:
    customer_id: str
    requested_id: str
    """The id asked about; differs from `customer_id` when it was retired by a merge."""
    records: pl.DataFrame
    links: list[Link]
    history: pl.DataFrame
    """The id's created/merged/split events."""


@dataclass(frozen=True)
class RecordPairExplanation:
    records: pl.DataFrame
    """Both records' attributes and customer ids."""
    same_customer: bool
    path: list[Link]
    """Accepted links joining the two records (empty when they are different customers)."""
    direct: list[Link]
    """Evidence about the pair itself: deterministic edges and Splink's score, accepted or not."""
    distrusted_identifiers: list[tuple[str, str, str]]
    """(type, identifier, reason) of exact identifiers they share that were judged unsafe."""


def explain_customer(connection: duckdb.DuckDBPyConnection, customer_id: str) -> CustomerExplanation:
    """A customer's records, the links that hold them together and the id's history."""
    _require_identity_tables(connection)
    current = _current_customer_id(connection, customer_id)
    records = connection.sql(
        f"SELECT a.customer_id, n.* FROM {ASSIGNMENTS_TABLE} a JOIN {NODES_TABLE} n USING (record_id) "
        "WHERE a.customer_id = ? ORDER BY n.record_id", params=[current],
    ).pl()
    if records.is_empty():
        raise ExplanationError(f"No customer {customer_id!r} in the warehouse (nor a retired id of that name).")
    links = _links_among(connection, records["record_id"].to_list())
    history = connection.sql(
        f"SELECT happened_at, event_type, customer_id, related_customer_id, record_count FROM {EVENTS_TABLE} "
        "WHERE customer_id = ? OR related_customer_id = ? ORDER BY happened_at, event_type", params=[current, current],
    ).pl()
    return CustomerExplanation(customer_id=current, requested_id=customer_id, records=records, links=links, history=history)


def explain_record_pair(connection: duckdb.DuckDBPyConnection, record_a: str, record_b: str) -> RecordPairExplanation:
    """Whether two records are one customer, why, and what is known about the pair itself."""
    _require_identity_tables(connection)
    records = connection.sql(
        f"SELECT a.customer_id, n.* FROM {NODES_TABLE} n LEFT JOIN {ASSIGNMENTS_TABLE} a USING (record_id) "
        "WHERE n.record_id IN (?, ?) ORDER BY CASE n.record_id WHEN ? THEN 0 ELSE 1 END", params=[record_a, record_b, record_a],
    ).pl()
    missing = {record_a, record_b} - set(records["record_id"])
    if missing:
        raise ExplanationError(
            f"Unknown record id(s): {', '.join(sorted(missing))}. A record id is <source>:<source key>, e.g. "
            "crm_contact:0035g00000AbCdEAAV, shopify_order:1001, sendgrid_recipient:ann@example.com, zendesk_requester:42."
        )
    customers = records["customer_id"].to_list()
    same_customer = customers[0] is not None and customers[0] == customers[1]
    path: list[Link] = []
    if same_customer:
        members = connection.sql(f"SELECT record_id FROM {ASSIGNMENTS_TABLE} WHERE customer_id = ?", params=[customers[0]]).pl()
        path = _shortest_path(_links_among(connection, members["record_id"].to_list()), record_a, record_b)
    return RecordPairExplanation(
        records=records,
        same_customer=same_customer,
        path=path,
        direct=_links_between(connection, record_a, record_b),
        distrusted_identifiers=_distrusted_shared_identifiers(connection, record_a, record_b),
    )


def _require_identity_tables(connection: duckdb.DuckDBPyConnection) -> None:
    missing = [t for t in (NODES_TABLE, DETERMINISTIC_EDGES_TABLE, ASSIGNMENTS_TABLE, MATCH_PAIRS_TABLE) if not table_exists(connection, t)]
    if missing:
        raise ExplanationError(f"Identities are not resolved in this warehouse yet (missing {', '.join(missing)}): run `cxp run`.")


def _current_customer_id(connection: duckdb.DuckDBPyConnection, customer_id: str) -> str:
    retired = connection.execute(
        f"SELECT current_customer_id FROM {RETIRED_TABLE} WHERE retired_customer_id = ?", [customer_id]
    ).fetchall()
    return retired[0][0] if retired else customer_id


def _links_among(connection: duckdb.DuckDBPyConnection, record_ids: list[str]) -> list[Link]:
    """Every accepted link whose two ends are both among `record_ids`."""
    with frames_registered(connection, explained_records=pl.DataFrame({"record_id": record_ids}, schema={"record_id": pl.String})):
        deterministic = connection.sql(
            f"""SELECT e.record_id_l, e.record_id_r, e.match_type,
                       CASE e.match_type WHEN 'email' THEN n.email ELSE n.phone_e164 END AS identifier
                FROM {DETERMINISTIC_EDGES_TABLE} e JOIN {NODES_TABLE} n ON n.record_id = e.record_id_l
                WHERE e.record_id_l IN (SELECT record_id FROM explained_records)
                  AND e.record_id_r IN (SELECT record_id FROM explained_records)
                ORDER BY ALL"""
        ).fetchall()
        scored = connection.sql(
            f"""SELECT * FROM {MATCH_PAIRS_TABLE}
                WHERE record_id_l IN (SELECT record_id FROM explained_records)
                  AND record_id_r IN (SELECT record_id FROM explained_records)
                ORDER BY record_id_l, record_id_r"""
        ).pl()
    # Only the edges that stand: a shared phone the household guard overruled joins nothing.
    standing = set(graph_edges(pl.DataFrame(deterministic, schema=_DETERMINISTIC_SCHEMA, orient="row"), scored).select(
        "record_id_l", "record_id_r", "kind").iter_rows())
    return [Link(left, right, kind, identifier) for left, right, kind, identifier in deterministic if (left, right, kind) in standing] + (
        _splink_links(scored.filter(pl.col("is_accepted"))))


def _links_between(connection: duckdb.DuckDBPyConnection, record_a: str, record_b: str) -> list[Link]:
    """Deterministic edges and Splink's score of the pair itself, in either orientation."""
    pair = [record_a, record_b, record_b, record_a]
    deterministic = connection.execute(
        f"""SELECT e.record_id_l, e.record_id_r, e.match_type,
                   CASE e.match_type WHEN 'email' THEN n.email ELSE n.phone_e164 END
            FROM {DETERMINISTIC_EDGES_TABLE} e JOIN {NODES_TABLE} n ON n.record_id = e.record_id_l
            WHERE (e.record_id_l = ? AND e.record_id_r = ?) OR (e.record_id_l = ? AND e.record_id_r = ?)""", pair,
    ).fetchall()
    # Records sharing a trusted identifier are joined as a star around its first record, so two
    # non-centre records carry no edge of their own: report the identifier they share instead.
    shared = connection.execute(
        f"""SELECT s.identifier_type, s.identifier FROM {ASSESSED_IDENTIFIERS_TABLE} s
            JOIN {NODES_TABLE} a ON a.record_id = ? JOIN {NODES_TABLE} b ON b.record_id = ?
            WHERE s.is_trusted AND ((s.identifier_type = 'email' AND s.identifier = a.email AND a.email = b.email)
                OR (s.identifier_type = 'phone' AND s.identifier = a.phone_e164 AND a.phone_e164 = b.phone_e164))""",
        [record_a, record_b],
    ).fetchall()
    scored = connection.sql(
        f"SELECT * FROM {MATCH_PAIRS_TABLE} WHERE (record_id_l = ? AND record_id_r = ?) OR (record_id_l = ? AND record_id_r = ?)", params=pair,
    ).pl()
    overruling = scored.filter(pl.col("overrules_shared_phone")) if "overrules_shared_phone" in scored.columns else scored.clear()
    overruled = {"is_accepted": False, "decision": overruling["decision"][0]} if overruling.height else {}
    links = [Link(left, right, kind, identifier, **(overruled if kind == "phone" else {})) for left, right, kind, identifier in deterministic]
    known = {(link.kind, link.identifier) for link in links}
    links += [Link(record_a, record_b, kind, identifier, **(overruled if kind == "phone" else {}))
              for kind, identifier in shared if (kind, identifier) not in known]
    return links + _splink_links(scored)


def _splink_links(pairs: pl.DataFrame) -> list[Link]:
    weight_columns = [c for c in pairs.columns if c.endswith("_match_weight")]
    return [
        Link(
            row["record_id_l"], row["record_id_r"], "probabilistic",
            match_probability=row["match_probability"], match_weight=row["match_weight"],
            comparison_weights={c.removesuffix("_match_weight"): row[c] for c in weight_columns if row[c] is not None},
            is_accepted=row["is_accepted"], decision=row.get("decision"),
        )
        for row in pairs.iter_rows(named=True)
    ]


def _distrusted_shared_identifiers(connection: duckdb.DuckDBPyConnection, record_a: str, record_b: str) -> list[tuple[str, str, str]]:
    return connection.execute(
        f"""SELECT s.identifier_type, s.identifier, s.distrust_reason FROM {ASSESSED_IDENTIFIERS_TABLE} s
            JOIN {NODES_TABLE} a ON a.record_id = ? JOIN {NODES_TABLE} b ON b.record_id = ?
            WHERE NOT s.is_trusted AND ((s.identifier_type = 'email' AND s.identifier = a.email AND a.email = b.email)
                OR (s.identifier_type = 'phone' AND s.identifier = a.phone_e164 AND a.phone_e164 = b.phone_e164))
            ORDER BY ALL""",
        [record_a, record_b],
    ).fetchall()


def _shortest_path(links: list[Link], start: str, goal: str) -> list[Link]:
    """The fewest accepted links from `start` to `goal` (breadth-first); deterministic links first on ties."""
    neighbours: dict[str, list[tuple[str, Link]]] = {}
    for link in sorted(links, key=lambda link: link.kind == "probabilistic"):
        neighbours.setdefault(link.record_id_l, []).append((link.record_id_r, link))
        neighbours.setdefault(link.record_id_r, []).append((link.record_id_l, link))
    came_from: dict[str, tuple[str, Link] | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            break
        for neighbour, link in neighbours.get(node, []):
            if neighbour not in came_from:
                came_from[neighbour] = (node, link)
                queue.append(neighbour)
    if goal not in came_from:
        return []
    path: list[Link] = []
    node = goal
    while (step := came_from[node]) is not None:
        node, link = step
        path.append(link)
    return path[::-1]
