"""Incremental dbt models built by an earlier definition are rebuilt from history, not left to fail.

The feature snapshot marts are incremental: each night appends the day's rows to those of earlier
nights. A home built by an earlier version of cxp holds rows computed by the earlier SQL, and dbt
meets a changed schema with its out-of-sync error (`on_schema_change: fail`), a changed formula
with silence. Each incremental model's definition is therefore fingerprinted (its SQL, its
contract and configuration, the project macros it uses, and the same of every model and seed
upstream of it) and recorded after each build. Before the next build, a model whose fingerprint
changed, or was never recorded, is dropped, so dbt rebuilds it from the full history the raw layer
keeps: the table a fresh home would have.

A model whose rows are observations that no export can replay (`meta.history: observed`, such as
the customer profile's nightly-observed changes) is never dropped: dbt appends the columns it
gains (`on_schema_change: append_new_columns`), and the earlier rows keep their values, with
nulls in the new columns.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb

from dagster_project.warehouse import table_exists

STATE_SCHEMA = "platform"
STATE_TABLE = f"{STATE_SCHEMA}.incremental_model_definitions"
# The configuration that shapes a model's rows; `meta`, docs and tags do not.
_SHAPING_CONFIG = ("materialized", "unique_key", "incremental_strategy", "on_schema_change", "pre-hook", "post-hook", "contract")


@dataclass(frozen=True)
class IncrementalModel:
    """An incremental model of the project and its definition's fingerprint."""

    unique_id: str
    relation: str
    """`schema.table` in the warehouse."""
    fingerprint: str
    observed_history: bool
    """Rows are observations made night by night (`meta.history: observed`): never rebuilt."""


@dataclass(frozen=True)
class DefinitionChange:
    """An incremental model whose stored rows an earlier definition built, and what is done about it."""

    model: IncrementalModel
    reason: str
    rebuilt: bool

    @property
    def message(self) -> str:
        if self.rebuilt:
            return (f"{self.model.relation}: {self.reason}; dropped, so this build recomputes it from the full "
                    "history (as a fresh home would have it)")
        return (f"{self.model.relation}: {self.reason}; its rows are observations no export can replay, so they stay "
                "as they were: columns the new definition adds are null on rows from before today")


def incremental_models(manifest: Mapping[str, Any], unique_ids: Iterable[str]) -> list[IncrementalModel]:
    """The incremental models among `unique_ids` (dbt manifest node ids), with their fingerprints."""
    nodes = manifest["nodes"]
    models = []
    for unique_id in sorted(set(unique_ids)):
        node = nodes.get(unique_id)
        if node is None or node["resource_type"] != "model" or node["config"].get("materialized") != "incremental":
            continue
        meta = node["config"].get("meta") or node.get("meta") or {}
        models.append(IncrementalModel(unique_id, f"{node['schema']}.{node['alias']}", definition_fingerprint(manifest, unique_id),
                                       meta.get("history") == "observed"))
    return models


def definition_fingerprint(manifest: Mapping[str, Any], unique_id: str) -> str:
    """A digest of what decides the model's rows: its own and every upstream model's and seed's file,
    shaping configuration and declared columns, and the project's own macros they call (dbt's and
    adapters' macros are left out, so upgrading dbt alone rebuilds nothing)."""
    nodes, macros = manifest["nodes"], manifest["macros"]
    project = manifest["nodes"][unique_id]["package_name"]
    parts: dict[str, Any] = {}
    pending_nodes, pending_macros = [unique_id], []
    while pending_nodes:
        node_id = pending_nodes.pop()
        if node_id in parts or node_id not in nodes:
            continue  # sources have no definition of their own here: their rows are the exports
        node = nodes[node_id]
        parts[node_id] = {
            "checksum": node["checksum"]["checksum"],
            "config": {key: node["config"].get(key) for key in _SHAPING_CONFIG},
            "columns": sorted((name, column.get("data_type")) for name, column in node.get("columns", {}).items()),
        }
        pending_nodes.extend(node.get("depends_on", {}).get("nodes", []))
        pending_macros.extend(node.get("depends_on", {}).get("macros", []))
    while pending_macros:
        macro_id = pending_macros.pop()
        macro = macros.get(macro_id)
        if macro_id in parts or macro is None or macro["package_name"] != project:
            continue
        parts[macro_id] = hashlib.sha256(macro["macro_sql"].encode()).hexdigest()
        pending_macros.extend(macro.get("depends_on", {}).get("macros", []))
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def recorded_fingerprints(connection: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Each incremental model's fingerprint as of its last successful build; empty before the first."""
    if not table_exists(connection, STATE_TABLE):
        return {}
    return dict(connection.execute(f"SELECT unique_id, fingerprint FROM {STATE_TABLE}").fetchall())


def prepare_for_build(connection: duckdb.DuckDBPyConnection, models: Iterable[IncrementalModel]) -> list[DefinitionChange]:
    """Drop each existing model whose rows an earlier definition built (unless its history is
    observed), so the coming build recomputes it; return what was found and done."""
    recorded = recorded_fingerprints(connection)
    changes = []
    for model in models:
        if not table_exists(connection, model.relation) or recorded.get(model.unique_id) == model.fingerprint:
            continue
        reason = ("its definition changed since its rows were built" if model.unique_id in recorded
                  else "built before cxp recorded model definitions, so by an earlier one")
        if not model.observed_history:
            connection.execute(f"DROP TABLE {model.relation}")
        changes.append(DefinitionChange(model, reason, rebuilt=not model.observed_history))
    return changes


def record_definitions(connection: duckdb.DuckDBPyConnection, models: Iterable[IncrementalModel]) -> None:
    """Store the fingerprints of models just built successfully."""
    rows = [(model.unique_id, model.fingerprint) for model in models]
    if not rows:
        return
    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {STATE_SCHEMA}")
    connection.execute(f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (unique_id VARCHAR PRIMARY KEY, fingerprint VARCHAR NOT NULL, "
                       "recorded_at TIMESTAMP NOT NULL)")
    connection.executemany(f"INSERT OR REPLACE INTO {STATE_TABLE} VALUES (?, ?, now()::TIMESTAMP)", rows)
