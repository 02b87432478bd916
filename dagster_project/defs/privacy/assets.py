"""The nightly erasure step: after the night's identity resolution and before the customer 360 is
built, every pending erasure request is carried out in every store and written to the audit log.

After, not before, identity resolution: tonight's exports may bring records of the person that
only tonight's resolution links to them (an order with their name and address but no email).
Run before it, the step could only follow last night's links, and having removed the person's
known records, left nothing for tonight's to link to. The person's rows pass through staging
and the identity graph for the minutes in between; the step removes them there too.
"""

import dataclasses
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from dagster_project.defs.features.resources import FeatureStoreParam
from dagster_project.defs.ingest.assets import WAREHOUSE_POOL, raw_asset_key
from dagster_project.defs.privacy.resources import SuppressionSalt
from dagster_project.ingest.contracts import SOURCE_CONTRACTS
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
from dagster_project.privacy.erasure import (
    REQUESTS_TABLE,
    Deletion,
    Person,
    add_to_suppression_list,
    delete_request_rows,
    erase_from_warehouse,
    identify_people,
    identity_is_resolved,
    pending_requests,
    register_erasure_keys,
)
from dagster_project.privacy.erasure_files import erase_from_parquet_files
from dagster_project.privacy.run_storage import scrub_run_storage
from dagster_project.privacy.suppression import create_privacy_tables, suppression_list_size
from dagster_project.privacy.warehouse_compaction import CompactionError, compact_warehouse
from dagster_project.settings import Settings
from dagster_project.warehouse_snapshots import list_snapshots

ERASURES = dg.AssetKey(["privacy", "erasures"])


@dg.asset(
    key=ERASURES, group_name="privacy", pool=WAREHOUSE_POOL, kinds={"duckdb", "parquet"},
    deps=[*(raw_asset_key(contract) for contract in SOURCE_CONTRACTS),
          *(dg.AssetKey(["identity", name]) for name in ("customer_id_assignments", "customer_id_events", "retired_customer_ids"))],
    description="Carries out the pending data-subject erasure requests (GDPR Art. 17): the person's rows leave the raw "
                "layer, the quarantine, the identity state, every model table, the feature and score files, the saved "
                "training sets, the online store and Dagster's run history; their salted identifiers join the suppression list that keeps "
                "re-delivered exports from bringing them back; each request is written to the audit log.",
)
def erasures(context: dg.AssetExecutionContext, warehouse: DuckDBResource, suppression_salt: SuppressionSalt,
             feature_store: FeatureStoreParam) -> dg.MaterializeResult:
    salt = suppression_salt.read()
    settings = feature_store.settings()
    outcomes: list[tuple[str, str, int]] = []
    with warehouse.get_connection() as connection:
        create_privacy_tables(connection)
        create_audit_tables(connection)
        # Before the first resolution, a request reaches only rows sharing its email or an id; it
        # stays open (and its row kept) until the next run, which follows the resolved identities.
        resolved = identity_is_resolved(connection)
        pending = pending_requests(connection, include_partial=resolved)
        processed_at = datetime.now(timezone.utc).replace(tzinfo=None)
        for request in (request for request in pending if request.email is None):
            removed = delete_request_rows(connection, [request.request_id]).get(request.request_id, 0)
            record_erasure(connection, request, processed_at, NO_EMAIL, 0, 0, [Deletion("warehouse", REQUESTS_TABLE, removed)] if removed else [])
            context.log.warning(f"Erasure request {request.request_id} has no valid email: nothing could be identified.")
            outcomes.append((request.request_id, NO_EMAIL, 0))
        requests = [request for request in pending if request.email is not None]
        if requests:
            started = time.perf_counter()
            people = identify_people(connection, requests)
            context.log.info(f"{len(requests)} request(s) lead to {sum(len(p.customer_ids) for p in people.values())} customer(s) "
                             f"({time.perf_counter() - started:.1f} s)")
            # Files and the online store first: were the warehouse step to fail, the requests stay
            # pending and the next run repeats it all; the reverse order could log an unfinished erasure.
            started = time.perf_counter()
            outside = _erase_outside_warehouse(settings, feature_store, people)
            context.log.info(f"Parquet files and online stores done ({time.perf_counter() - started:.1f} s)")
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
                    context.log.info(f"Erasure request {request.request_id}: {outcome}, {rows:,} rows deleted from {len(deletions)} places.")
                    outcomes.append((request.request_id, outcome, rows))
                connection.execute("COMMIT")
                context.log.info(f"Warehouse tables done ({time.perf_counter() - started:.1f} s)")
            except Exception:
                connection.execute("ROLLBACK")
                raise
        # A request file delivered again brings back requests already carried out: they go at once.
        redelivered = sum(delete_request_rows(connection, [request_id for (request_id,) in connection.execute(
            f"SELECT request_id FROM {PROCESSED_TABLE} WHERE outcome <> ?", [PARTIAL]).fetchall()]).values())
        if redelivered:
            context.log.info(f"{redelivered} re-delivered row(s) of erasure requests already carried out were removed.")
        suppressed = suppression_list_size(connection)
    metadata = _metadata(outcomes, suppressed)
    if any(rows for _, _, rows in outcomes):
        # Deleted rows stay in the file's free blocks until DuckDB reuses them: rewrite it.
        try:
            started = time.perf_counter()
            compaction = compact_warehouse(Path(warehouse.database))
            context.log.info(f"Warehouse file rewritten ({time.perf_counter() - started:.1f} s)")
            metadata["warehouse_rewritten"] = dg.MetadataValue.text(f"{compaction.bytes_before:,} → {compaction.bytes_after:,} bytes")
        except CompactionError as error:
            context.log.error(f"{error}. The erased rows are gone from every table, but may linger in the file's free blocks "
                              "until DuckDB reuses them.")
            metadata["warehouse_rewritten"] = dg.MetadataValue.text(f"no: {error}")
    return dg.MaterializeResult(metadata=metadata)


def _erase_outside_warehouse(settings: Settings, feature_store: FeatureStoreParam, people: dict[str, Person]) -> dict[str, list[Deletion]]:
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
        stores["sqlite"] = dataclasses.replace(settings, online_store="sqlite")
    online = [(name, store_settings) for name, store_settings in sorted(stores.items()) if online_store_holds_data(store_settings)]
    if owners and online:
        store = feature_store.open()
        for request_id, person in people.items():
            for name, store_settings in online:
                removed = delete_customers_online(store, store_settings, sorted(c for c in person.customer_ids if owners[c] == request_id))
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


def _metadata(outcomes: list[tuple[str, str, int]], suppressed: int) -> dict[str, dg.MetadataValue]:
    table = "\n".join(f"| {request} | {outcome} | {rows:,} |" for request, outcome, rows in outcomes)
    return {
        "requests_processed": dg.MetadataValue.int(len(outcomes)),
        "requests_completed_next_run": dg.MetadataValue.int(sum(outcome == PARTIAL for _, outcome, _ in outcomes)),
        "rows_deleted": dg.MetadataValue.int(sum(rows for _, _, rows in outcomes)),
        "suppression_list_size": dg.MetadataValue.int(suppressed),
        "requests": dg.MetadataValue.md("| request | outcome | rows deleted |\n|---|---|---|\n" + table if outcomes
                                        else "No pending erasure request."),
    }

