"""Row counts on the dbt tables a build materialized, so each model's page in the UI shows its size.

dagster-dbt's own `fetch_row_counts()` asks the adapter of a dbt subprocess, which cxp does not start
(see in_process_build.py); the warehouse is one DuckDB file, read here once dbt has finished and
released it. Views are not counted: that would run their query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Any, TypeVar

import dagster as dg
import duckdb

from dagster_project.step_progress import StepProgress

_COUNTED = {"table", "incremental", "seed", "snapshot"}

Event = TypeVar("Event")


def with_row_counts(events: Iterable[Event], manifest: Mapping[str, Any],
                    connect: Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]],
                    progress: StepProgress | None = None) -> Iterator[Event]:
    """The build's events once it is over, each materialized table's with `dagster/row_count`;
    `progress` counts the models as dbt builds them. A build that fails still records, with
    counts, what it built before the failure."""
    held: list[Event] = []
    try:
        for event in events:
            held.append(event)
            if progress is not None and isinstance(event, (dg.Output, dg.AssetMaterialization)):
                progress.advance()
    except Exception:
        yield from _counted(held, manifest, connect)
        raise
    yield from _counted(held, manifest, connect)


def _counted(events: list[Event], manifest: Mapping[str, Any],
             connect: Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]) -> Iterator[Event]:
    relations = {}
    for event in events:
        node = _node_of(event, manifest)
        if node is not None and node.get("config", {}).get("materialized") in _COUNTED and node.get("relation_name"):
            relations[node["unique_id"]] = node["relation_name"]
    counts: dict[str, int] = {}
    if relations:
        with connect() as connection:
            for unique_id, relation in relations.items():
                row = connection.execute(f"SELECT count(*) FROM {relation}").fetchone()
                counts[unique_id] = int(row[0]) if row else 0
    for event in events:
        node = _node_of(event, manifest)
        if node is not None and node["unique_id"] in counts and isinstance(event, (dg.Output, dg.AssetMaterialization)):
            yield event.with_metadata({**event.metadata, "dagster/row_count": counts[node["unique_id"]]})  # type: ignore[misc]
        else:
            yield event


def _node_of(event: object, manifest: Mapping[str, Any]) -> Mapping[str, Any] | None:
    if not isinstance(event, (dg.Output, dg.AssetMaterialization)):
        return None
    unique_id = event.metadata.get("unique_id")
    text = getattr(unique_id, "value", unique_id)
    return manifest["nodes"].get(text) if isinstance(text, str) else None
