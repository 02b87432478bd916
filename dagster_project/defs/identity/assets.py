"""The identity stage between dbt layers: clusters of source records get stable customer ids."""

from collections.abc import Sequence

import dagster as dg
import duckdb
import polars as pl
from dagster_dbt import get_asset_key_for_model
from dagster_duckdb import DuckDBResource
from pydantic import Field

from dagster_project.defs.identity.explanation_metadata import customer_size_metadata, match_decision_metadata
from dagster_project.defs.ingest.assets import WAREHOUSE_POOL
from dagster_project.identity.customer_ids import assign_customer_ids, find_clusters
from dagster_project.identity.identity_graph import graph_edges
from dagster_project.identity.identity_state import (
    ASSIGNMENTS_TABLE,
    DETERMINISTIC_EDGES_TABLE,
    EVENTS_TABLE,
    MATCH_PAIRS_TABLE,
    NODES_TABLE,
    RETIRED_TABLE,
    read_previous_state,
    run_time,
    write_state,
)
from dagster_project.identity.match_model import MatchingSettings, TooLittleEvidence
from dagster_project.identity.match_selection import label_match_decisions
from dagster_project.identity.pair_scoring import comparisons_without_data, score_record_pairs
from dagster_project.settings import Settings
from dagster_project.warehouse import frames_registered

_PAIR_COLUMNS = {
    "record_id_l": pl.String, "record_id_r": pl.String, "match_probability": pl.Float64,
    "match_weight": pl.Float64, "is_accepted": pl.Boolean, "decision": pl.String, "overrules_shared_phone": pl.Boolean,
}


class ProbabilisticMatchingConfig(dg.Config):
    """Run flags of probabilistic matching; the model itself is trained afresh on every run."""

    match_threshold: float = Field(default=0.88, description="Match probability at or above which a scored pair joins two records.")
    min_records_for_training: int = Field(
        default=1000, description="Below this many identity nodes there is too little data to estimate match weights; only deterministic rules apply."
    )
    memory_limit: str = Field(default="4GB", description="DuckDB memory limit of the Splink session (pairs at 1M records need a cap).")

_TABLES = {"customer_id_assignments": ASSIGNMENTS_TABLE, "customer_id_events": EVENTS_TABLE, "retired_customer_ids": RETIRED_TABLE}
_DESCRIPTIONS = {
    "customer_id_assignments": "One row per identity node (source record): the customer id it belongs to now.",
    "customer_id_events": "One row per customer id created, merged into another, or split, per run (append-only).",
    "retired_customer_ids": "One row per customer id ever retired by a merge: the live id that carries its records now.",
}


def build_identity_assets(dbt_models: dg.AssetsDefinition, platform: Settings) -> Sequence[dg.AssetsDefinition]:
    """Probabilistic matching and the customer id assets, downstream of the dbt identity graph."""
    nodes = get_asset_key_for_model([dbt_models], "int_identity_nodes")
    edges = get_asset_key_for_model([dbt_models], "int_identity_edges_deterministic")
    match_pairs = dg.AssetKey(["identity", "probabilistic_match_pairs"])

    @dg.asset(
        key=match_pairs, group_name="identity", deps=[nodes], pool=WAREHOUSE_POOL, kinds={"splink", "duckdb"},
        description="One row per candidate pair of identity nodes scored by Splink, with each comparison's match weight and whether it joins them.",
    )
    def probabilistic_match_pairs(
        context: dg.AssetExecutionContext, config: ProbabilisticMatchingConfig, warehouse: DuckDBResource
    ) -> dg.MaterializeResult:
        """Train a Fellegi-Sunter model on the identity nodes and score candidate pairs."""
        with warehouse.get_connection() as connection:
            records = connection.sql(f"SELECT * FROM {NODES_TABLE}").pl()
            # One nickname list for the deterministic rules and the matcher: the dbt seed.
            nicknames = tuple(connection.sql("SELECT first_name, nickname FROM seeds.first_name_nicknames").fetchall())
        without_data = comparisons_without_data(records)
        fallback = None
        if records.height < config.min_records_for_training:
            fallback = f"{records.height} identity nodes: too few to estimate match weights"
        else:
            settings = MatchingSettings(match_threshold=config.match_threshold, nicknames=nicknames,
                                        max_pairs_for_u_estimation=platform.identity_u_sample_pairs)
            try:
                with duckdb.connect(config={"memory_limit": config.memory_limit}) as session:
                    scored = score_record_pairs(records, settings, connection=session)
                pairs = label_match_decisions(scored, settings, records)
            except TooLittleEvidence as error:
                fallback = str(error)
        if fallback:
            context.log.warning(f"{fallback}; deterministic rules only.")
            pairs = pl.DataFrame(schema=_PAIR_COLUMNS)
        elif without_data:
            context.log.info(f"No {', '.join(without_data)} in the identity nodes: those comparisons weigh nothing.")
        with warehouse.get_connection() as connection:
            with frames_registered(connection, scored_pairs=pairs):
                connection.execute("CREATE SCHEMA IF NOT EXISTS identity")
                connection.execute(f"CREATE OR REPLACE TABLE {MATCH_PAIRS_TABLE} AS SELECT * FROM scored_pairs")
        return dg.MaterializeResult(metadata={
            "identity_nodes": records.height,
            "scored_pairs": pairs.height,
            "accepted_pairs": int(pairs["is_accepted"].sum()),
            "match_threshold": config.match_threshold,
            "u_sample_pairs": platform.identity_u_sample_pairs,
            "trained": fallback is None,
            "deterministic_only_because": fallback or "",
            "comparisons_without_data": ", ".join(without_data),
            **match_decision_metadata(pairs),
        })

    @dg.multi_asset(
        specs=[
            dg.AssetSpec(["identity", name], group_name="identity", description=_DESCRIPTIONS[name], deps=[nodes, edges, match_pairs], kinds={"duckdb"})
            for name in _TABLES
        ],
        pool=WAREHOUSE_POOL,
    )
    def customer_ids(context: dg.AssetExecutionContext, warehouse: DuckDBResource):
        """Cluster the identity graph and keep each person's customer id from the previous run."""
        with warehouse.get_connection() as connection:
            previous, retired = read_previous_state(connection)
            record_ids = connection.sql(f"SELECT record_id FROM {NODES_TABLE}").pl()["record_id"]
            deterministic = connection.sql(f"SELECT record_id_l, record_id_r, match_type FROM {DETERMINISTIC_EDGES_TABLE}").pl()
            pairs = connection.sql(
                f"SELECT record_id_l, record_id_r, is_accepted, overrules_shared_phone FROM {MATCH_PAIRS_TABLE} "
                "WHERE is_accepted OR overrules_shared_phone"
            ).pl()
            edges = graph_edges(deterministic, pairs)
            outcome = assign_customer_ids(find_clusters(record_ids, edges.drop("kind")), previous, retired, run_time())
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
            # Shared phones the household guard overruled (see `graph_edges`).
            "overruled_phone_edges": deterministic.height - edges.filter(pl.col("kind") != "probabilistic").height,
        }
        context.log.info(f"Customer ids: {summary}")
        for name in _TABLES:
            yield dg.MaterializeResult(asset_key=["identity", name], metadata=summary | customer_size_metadata(outcome.assignments))

    return [probabilistic_match_pairs, customer_ids]
