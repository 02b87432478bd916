"""The identity stage between dbt layers: clusters of source records get stable customer ids."""

from collections.abc import Sequence

import dagster as dg
from dagster_dbt import get_asset_key_for_model
from dagster_duckdb import DuckDBResource

from dagster_project.defs.identity.customer_ids import assign_customer_ids, find_clusters
from dagster_project.defs.identity.identity_state import (
    ASSIGNMENTS_TABLE, EVENTS_TABLE, RETIRED_TABLE, read_previous_state, run_time, write_state,
)
from dagster_project.defs.ingest.assets import WAREHOUSE_POOL

# dbt builds intermediate models into the `intermediate` schema (dbt_project.yml).
NODES_TABLE = "intermediate.int_identity_nodes"
DETERMINISTIC_EDGES_TABLE = "intermediate.int_identity_edges_deterministic"

_TABLES = {"customer_id_assignments": ASSIGNMENTS_TABLE, "customer_id_events": EVENTS_TABLE, "retired_customer_ids": RETIRED_TABLE}
_DESCRIPTIONS = {
    "customer_id_assignments": "One row per identity node (source record): the customer id it belongs to now.",
    "customer_id_events": "One row per customer id created, merged into another, or split, per run (append-only).",
    "retired_customer_ids": "One row per customer id ever retired by a merge: the live id that carries its records now.",
}


def build_identity_assets(dbt_models: dg.AssetsDefinition) -> Sequence[dg.AssetsDefinition]:
    """The customer id assets, downstream of the dbt identity graph."""
    nodes = get_asset_key_for_model([dbt_models], "int_identity_nodes")
    edges = get_asset_key_for_model([dbt_models], "int_identity_edges_deterministic")

    @dg.multi_asset(
        specs=[
            dg.AssetSpec(["identity", name], group_name="identity", description=_DESCRIPTIONS[name], deps=[nodes, edges], kinds={"duckdb"})
            for name in _TABLES
        ],
        pool=WAREHOUSE_POOL,
    )
    def customer_ids(context: dg.AssetExecutionContext, warehouse: DuckDBResource):
        """Cluster the identity graph and keep each person's customer id from the previous run."""
        with warehouse.get_connection() as connection:
            previous, retired = read_previous_state(connection)
            record_ids = connection.sql(f"SELECT record_id FROM {NODES_TABLE}").pl()["record_id"]
            accepted = connection.sql(f"SELECT record_id_l, record_id_r FROM {DETERMINISTIC_EDGES_TABLE}").pl()
            outcome = assign_customer_ids(find_clusters(record_ids, accepted), previous, retired, run_time())
            write_state(connection, outcome)
        sizes = outcome.assignments.group_by("customer_id").len()
        counts = dict(outcome.events.group_by("event_type").len().iter_rows())
        summary = {
            "customers": sizes.height,
            "records": outcome.assignments.height,
            "largest_customer_records": int(sizes["len"].max() or 0),
            "created": counts.get("created", 0),
            "merged": counts.get("merged", 0),
            "split": counts.get("split", 0),
        }
        context.log.info(f"Customer ids: {summary}")
        for name in _TABLES:
            yield dg.MaterializeResult(asset_key=["identity", name], metadata=summary)

    return [customer_ids]
