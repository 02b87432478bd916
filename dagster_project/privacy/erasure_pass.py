"""The nightly erasure pass: every pending request carried out in every store and written to the
audit log, in the order that keeps a failure safe to repeat.

Files and the online stores go first, then the warehouse in one transaction: were the warehouse
step to fail, the requests stay pending and the next run repeats it all; the reverse order could
log an unfinished erasure. Before the first identity resolution a request reaches only rows
sharing its email or an id; it stays open (its row kept) until a run follows the resolved ids.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb
from feast import FeatureStore

from dagster_project.privacy.audit_log import (
    ERASED,
    NO_EMAIL,
    NOTHING_HELD,
    PARTIAL,
    PROCESSED_TABLE,
    create_audit_tables,
    record_erasure,
    rows_deleted_before,
)
from dagster_project.privacy.erasure import add_to_suppression_list, erase_from_warehouse
from dagster_project.privacy.erasure_files import erase_from_parquet_files
from dagster_project.privacy.erasure_requests import REQUESTS_TABLE, Deletion, delete_request_rows
from dagster_project.privacy.erasure_scope import Person, identify_people, identity_is_resolved, pending_requests, register_erasure_keys
from dagster_project.privacy.run_storage import scrub_run_storage
from dagster_project.privacy.suppression import create_privacy_tables, suppression_list_size
from dagster_project.privacy.warehouse_compaction import CompactionError, compact_warehouse
from dagster_project.settings import Settings
from dagster_project.warehouse_snapshots import list_snapshots


@dataclass
class ErasurePass:
    """What one pass did: per request (id, outcome, rows deleted), the suppression list's size, and
    how the warehouse file was rewritten (or why not) when rows were deleted."""

    outcomes: list[tuple[str, str, int]]
    suppressed: int
    warehouse_rewritten: str | None = None


def carry_out_erasures(connection: duckdb.DuckDBPyConnection, settings: Settings, salt: str,
                       open_feature_store: Callable[[], FeatureStore], log: logging.Logger) -> ErasurePass:
    """Carry out every pending request (see the module); the warehouse file is compacted by the
    caller with `compact_after`, once this connection is closed."""
    create_privacy_tables(connection)
    create_audit_tables(connection)
    resolved = identity_is_resolved(connection)
    pending = pending_requests(connection, include_partial=resolved)
    processed_at = datetime.now(timezone.utc).replace(tzinfo=None)
    outcomes: list[tuple[str, str, int]] = []
    for request in (request for request in pending if request.email is None):
        removed = delete_request_rows(connection, [request.request_id]).get(request.request_id, 0)
        record_erasure(connection, request, processed_at, NO_EMAIL, 0, 0, [Deletion("warehouse", REQUESTS_TABLE, removed)] if removed else [])
        log.warning(f"Erasure request {request.request_id} has no valid email: nothing could be identified.")
        outcomes.append((request.request_id, NO_EMAIL, 0))
    requests = [request for request in pending if request.email is not None]
    if requests:
        started = time.perf_counter()
        people = identify_people(connection, requests)
        log.info(f"{len(requests)} request(s) lead to {sum(len(p.customer_ids) for p in people.values())} customer(s) "
                 f"({time.perf_counter() - started:.1f} s)")
        started = time.perf_counter()
        outside = erase_outside_warehouse(settings, open_feature_store, people)
        log.info(f"Parquet files and online stores done ({time.perf_counter() - started:.1f} s)")
        started = time.perf_counter()
        connection.execute("BEGIN TRANSACTION")
        try:
            register_erasure_keys(connection, people, salt)
            added = add_to_suppression_list(connection, processed_at)
            inside = erase_from_warehouse(connection, salt)
            request_rows = delete_request_rows(connection, [r.request_id for r in requests]) if resolved else {}
            for request in requests:
                deletions = inside.get(request.request_id, []) + outside.get(request.request_id, [])
                # A follow-up of a first load's partial erasure may find nothing more: the request still erased rows.
                held = bool(deletions) or rows_deleted_before(connection, request.request_id) > 0
                outcome = (ERASED if held else NOTHING_HELD) if resolved else PARTIAL
                if request.request_id in request_rows:
                    deletions.append(Deletion("warehouse", REQUESTS_TABLE, request_rows[request.request_id]))
                record_erasure(connection, request, processed_at, outcome, len(people[request.request_id].customer_ids),
                               added.get(request.request_id, 0), deletions)
                rows = sum(deletion.rows for deletion in deletions)
                log.info(f"Erasure request {request.request_id}: {outcome}, {rows:,} rows deleted from {len(deletions)} places.")
                outcomes.append((request.request_id, outcome, rows))
            connection.execute("COMMIT")
            log.info(f"Warehouse tables done ({time.perf_counter() - started:.1f} s)")
        except Exception:
            connection.execute("ROLLBACK")
            raise
    # A request file delivered again brings back requests already carried out: they go at once.
    redelivered = sum(delete_request_rows(connection, [request_id for (request_id,) in connection.execute(
        f"SELECT request_id FROM {PROCESSED_TABLE} WHERE outcome <> ?", [PARTIAL]).fetchall()]).values())
    if redelivered:
        log.info(f"{redelivered} re-delivered row(s) of erasure requests already carried out were removed.")
    return ErasurePass(outcomes, suppression_list_size(connection))


def compact_after(erasure_pass: ErasurePass, warehouse: Path, log: logging.Logger) -> None:
    """Deleted rows stay in the file's free blocks until DuckDB reuses them: rewrite the file when
    the pass deleted rows, and record how (or why it could not)."""
    if not any(rows for _, _, rows in erasure_pass.outcomes):
        return
    try:
        started = time.perf_counter()
        compaction = compact_warehouse(warehouse)
        log.info(f"Warehouse file rewritten ({time.perf_counter() - started:.1f} s)")
        erasure_pass.warehouse_rewritten = f"{compaction.bytes_before:,} → {compaction.bytes_after:,} bytes"
    except CompactionError as error:
        log.error(f"{error}. The erased rows are gone from every table, but may linger in the file's free blocks "
                  "until DuckDB reuses them.")
        erasure_pass.warehouse_rewritten = f"no: {error}"


def erase_outside_warehouse(settings: Settings, open_feature_store: Callable[[], FeatureStore],
                            people: dict[str, Person]) -> dict[str, list[Deletion]]:
    """The people's rows in the feature and score files, the model registry, every online store
    the platform wrote, the warehouse snapshots and Dagster's run history; per request."""
    from feature_repo.online_store import delete_customers_online, online_store_holds_data

    owners: dict[str, str] = {}
    for request_id, person in people.items():
        for customer in sorted(person.customer_ids):
            owners.setdefault(customer, request_id)
    deletions: dict[str, list[Deletion]] = defaultdict(list)
    for root, store in ((settings.feature_files_dir, "feature files"), (settings.models_dir, "model registry")):
        for request_id, found in erase_from_parquet_files(root, store, owners).items():
            deletions[request_id] += found
    # The embedded SQLite store too when Redis now serves: a store the platform once wrote keeps what it was given.
    stores = {settings.online_store: settings}
    if settings.sqlite_online_store_path.exists():
        stores["sqlite"] = settings.model_copy(update={"online_store": "sqlite"})
    online = [(name, store_settings) for name, store_settings in sorted(stores.items()) if online_store_holds_data(store_settings)]
    if owners and online:
        feature_store = open_feature_store()
        for request_id, person in people.items():
            for name, store_settings in online:
                removed = delete_customers_online(feature_store, store_settings, sorted(c for c in person.customer_ids if owners[c] == request_id))
                if removed:
                    deletions[request_id].append(Deletion("online store", name, removed))
    # Warehouse snapshots hold the person as they were: a restore must not bring them back.
    snapshots = list_snapshots(settings.snapshots_dir)
    for snapshot in snapshots:
        snapshot.path.unlink(missing_ok=True)
    for request_id in people:
        deletions[request_id] += [Deletion("warehouse snapshots", snapshot.path.name, 1) for snapshot in snapshots]
    # Dagster's run history: ids and emails in event metadata and logs (this run's too).
    for request_id, person in people.items():
        identifiers = [value for _, value in person.identifiers] + sorted(person.record_ids) + sorted(person.customer_ids)
        for location, rows in scrub_run_storage(settings.dagster_home, identifiers).items():
            deletions[request_id].append(Deletion("dagster storage", location, rows))
    return dict(deletions)
