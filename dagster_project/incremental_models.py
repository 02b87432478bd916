"""Incremental dbt models built by an earlier definition are rebuilt from history, not left to fail.

The feature snapshot marts are incremental: each night appends the day's rows to those of earlier
nights. A home built by an earlier version of cxp holds rows computed by the earlier SQL, and dbt
meets a changed schema with its out-of-sync error (`on_schema_change: fail`), a changed formula
with silence. So every model and seed dbt builds has its definition recorded (its file, shaping
configuration, declared columns and the project macros it calls), and an incremental model also its
lineage's (its own and every upstream model's and seed's). Before a build, an incremental model
whose lineage changed, or was never recorded, is dropped and dbt rebuilds it from the full history
the raw layer keeps: the table a fresh home would have. It waits (a warning says for what) while an
upstream table is still one an earlier definition built, as after a run of a subset: replaying
history through it would record the old rows as new.

A model whose rows are observations that no export can replay (`meta.history: observed`, such as
the customer profile's nightly-observed changes) is never dropped: dbt appends the columns it gains
(`on_schema_change: append_new_columns`), and the earlier rows keep their values.

Inputs computed outside dbt (identity resolution's tables, the phone-number function) are data to
these models, not definitions: a change there reaches the marts as identity changes do.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import duckdb

from dagster_project.warehouse import table_exists

STATE_SCHEMA = "platform"
STATE_TABLE = f"{STATE_SCHEMA}.dbt_node_definitions"
# The configuration that shapes a node's rows; `meta`, docs and tags do not.
_SHAPING_CONFIG = ("materialized", "unique_key", "incremental_strategy", "on_schema_change", "column_types")
Action = Literal["rebuilt", "kept", "waiting"]


@dataclass(frozen=True)
class IncrementalModel:
    """An incremental model of the project, its lineage's fingerprint and its upstream definitions."""

    unique_id: str
    relation: str
    """`schema.table` in the warehouse."""
    fingerprint: str
    observed_history: bool
    """Rows are observations made night by night (`meta.history: observed`): never rebuilt."""
    upstream: dict[str, str] = field(default_factory=dict)
    """Each upstream model's and seed's definition."""


@dataclass(frozen=True)
class DefinitionChange:
    """An incremental model whose stored rows an earlier definition built, and what is done about it."""

    model: IncrementalModel
    reason: str
    action: Action
    stale_upstream: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        if self.action == "rebuilt":
            return (f"{self.model.relation}: {self.reason}; dropped, so this build recomputes it from the full "
                    "history (as a fresh home would have it)")
        if self.action == "waiting":
            names = ", ".join(unique_id.split(".")[-1] for unique_id in self.stale_upstream)
            return (f"{self.model.relation}: {self.reason}, but {names} upstream still hold(s) what an earlier definition "
                    "built; it is rebuilt by the first run that rebuilds those too (a whole `cxp run`), and until then "
                    "only appended to as before")
        return (f"{self.model.relation}: {self.reason}; its rows are observations no export can replay, so they stay "
                "as they were: a new formula applies from today, and a column it adds is null on earlier rows")


def node_definition(manifest: Mapping[str, Any], unique_id: str) -> str:
    """A digest of one model's or seed's own definition: its file, shaping configuration, contract
    and declared columns, and the project's own macros it calls (dbt's and adapters' macros are left
    out, so upgrading dbt alone rebuilds nothing)."""
    node = manifest["nodes"][unique_id]
    config = node["config"]
    hooks = [hook.get("sql") if isinstance(hook, Mapping) else hook for key in ("pre-hook", "post-hook") for hook in config.get(key) or []]
    parts: dict[str, Any] = {
        "checksum": node["checksum"]["checksum"],
        "config": {key: config.get(key) for key in _SHAPING_CONFIG},
        "hooks": hooks,
        "contract": bool((config.get("contract") or {}).get("enforced")),
        "columns": sorted((name, column.get("data_type")) for name, column in node.get("columns", {}).items()),
    }
    macros, project = manifest["macros"], node["package_name"]
    pending = list(node.get("depends_on", {}).get("macros", []))
    while pending:
        macro_id = pending.pop()
        macro = macros.get(macro_id)
        if macro_id in parts or macro is None or macro["package_name"] != project:
            continue
        parts[macro_id] = hashlib.sha256(macro["macro_sql"].encode()).hexdigest()
        pending.extend(macro.get("depends_on", {}).get("macros", []))
    return _digest(parts)


def incremental_models(manifest: Mapping[str, Any], unique_ids: Iterable[str]) -> list[IncrementalModel]:
    """The incremental models among `unique_ids` (dbt manifest node ids), with their lineage."""
    nodes = manifest["nodes"]
    models = []
    for unique_id in sorted(set(unique_ids)):
        node = nodes.get(unique_id)
        if node is None or node["resource_type"] != "model" or node["config"].get("materialized") != "incremental":
            continue
        definitions = {node_id: node_definition(manifest, node_id) for node_id in _lineage(nodes, unique_id)}
        meta = node["config"].get("meta") or node.get("meta") or {}
        models.append(IncrementalModel(unique_id, f"{node['schema']}.{node['alias']}", _digest(definitions),
                                       meta.get("history") == "observed", {k: v for k, v in definitions.items() if k != unique_id}))
    return models


def recorded_definitions(connection: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str | None]]:
    """Each node's definition (and an incremental model's lineage) as of its last successful build."""
    if not table_exists(connection, STATE_TABLE):
        return {}
    return {unique_id: (definition, lineage) for unique_id, definition, lineage
            in connection.execute(f"SELECT unique_id, definition, lineage FROM {STATE_TABLE}").fetchall()}


def prepare_for_build(connection: duckdb.DuckDBPyConnection, models: Iterable[IncrementalModel],
                      building: Iterable[str] = ()) -> list[DefinitionChange]:
    """Drop each existing model whose rows an earlier definition built (unless its history is
    observed, or an upstream table is still an earlier definition's and not among the nodes the
    coming build makes first, `building`), so the build recomputes it; return what was found and done."""
    recorded = recorded_definitions(connection)
    rebuilt_first = set(building)
    changes = []
    for model in models:
        if not table_exists(connection, model.relation) or recorded.get(model.unique_id, ("", None))[1] == model.fingerprint:
            continue
        reason = ("its definition changed since its rows were built" if model.unique_id in recorded
                  else "built before cxp recorded model definitions, so by an earlier one")
        if model.observed_history:
            changes.append(DefinitionChange(model, reason, "kept"))
            continue
        stale = tuple(sorted(node_id for node_id, definition in model.upstream.items()
                             if recorded.get(node_id, ("", None))[0] != definition and node_id not in rebuilt_first))
        if stale:
            changes.append(DefinitionChange(model, reason, "waiting", stale))
            continue
        connection.execute(f"DROP TABLE {model.relation}")
        changes.append(DefinitionChange(model, reason, "rebuilt"))
    return changes


def record_built(connection: duckdb.DuckDBPyConnection, manifest: Mapping[str, Any], built: Iterable[str],
                 waiting: Iterable[DefinitionChange] = ()) -> None:
    """Store the definitions of the models and seeds dbt just built successfully (and the lineage of
    incremental ones); a model left `waiting` keeps its earlier record."""
    held = {change.model.unique_id for change in waiting if change.action == "waiting"}
    ids = sorted(node_id for node_id in set(built) - held if node_id in manifest["nodes"])
    if not ids:
        return
    lineage = {model.unique_id: model.fingerprint for model in incremental_models(manifest, ids)}
    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {STATE_SCHEMA}")
    connection.execute(f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (unique_id VARCHAR PRIMARY KEY, definition VARCHAR NOT NULL, "
                       "lineage VARCHAR, recorded_at TIMESTAMP NOT NULL)")
    connection.executemany(f"INSERT OR REPLACE INTO {STATE_TABLE} VALUES (?, ?, ?, now()::TIMESTAMP)",
                           [(node_id, node_definition(manifest, node_id), lineage.get(node_id)) for node_id in ids])


def _lineage(nodes: Mapping[str, Any], unique_id: str) -> list[str]:
    """The node and every model and seed upstream of it (sources are the exports: data, not definitions)."""
    seen: list[str] = []
    pending = [unique_id]
    while pending:
        node_id = pending.pop()
        if node_id in seen or node_id not in nodes:
            continue
        seen.append(node_id)
        pending.extend(nodes[node_id].get("depends_on", {}).get("nodes", []))
    return seen


def _digest(parts: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
