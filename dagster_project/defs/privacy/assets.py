"""The nightly erasure step: after the night's identity resolution and before the customer 360 is
built, every pending erasure request is carried out in every store and written to the audit log.

After, not before, identity resolution: tonight's exports may bring records of the person that
only tonight's resolution links to them (an order with their name and address but no email).
Run before it, the step could only follow last night's links, and having removed the person's
known records, left nothing for tonight's to link to. The person's rows pass through staging
and the identity graph for the minutes in between; the step removes them there too.
"""

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from dagster_project.defs.features.resources import FeatureStoreParam
from dagster_project.defs.ingest.assets import WAREHOUSE_POOL, raw_asset_key
from dagster_project.defs.privacy.resources import SuppressionSalt
from dagster_project.ingest.contracts import SOURCE_CONTRACTS
from dagster_project.privacy.audit_log import PARTIAL
from dagster_project.privacy.erasure_pass import carry_out_erasures, compact_after

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
    with warehouse.get_connection() as connection:
        done = carry_out_erasures(connection, feature_store.settings(), suppression_salt.read(), feature_store.open, context.log)
    compact_after(done, Path(warehouse.database), context.log)
    metadata = _metadata(done.outcomes, done.suppressed)
    if done.warehouse_rewritten:
        metadata["warehouse_rewritten"] = dg.MetadataValue.text(done.warehouse_rewritten)
    return dg.MaterializeResult(metadata=metadata)


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

