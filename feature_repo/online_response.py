"""Feast's `/get-online-features` answer, shaped for app developers by the serving gate: features
in the order the request named them, whatever order Feast's stores return them in, and
`unknown_entities`, the ids none of the requested views holds a row for (Feast answers those with
every value null and NOT_FOUND, like a customer whose values are all missing).

Plain functions on the decoded request and response; `feature_server.py` applies them. The answer
is decoded and encoded once, here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from feast import FeatureService, FeatureStore

from feature_repo.held_answers import Send, holding_answers

NOT_FOUND = "NOT_FOUND"


@dataclass(frozen=True)
class RequestedFeatures:
    """The features a read asks for, as its answer names them, in the order it asks."""

    names: list[str]
    derived: frozenset[str]
    """Those computed at request time (on-demand views): Feast answers them PRESENT for any id."""


def requested_features(request: dict[str, Any], store: FeatureStore, service: FeatureService | None) -> RequestedFeatures:
    """What a (checked) read asks for: its `features` list, or `service`'s features as the service lists them."""
    full = bool(request.get("full_feature_names"))
    if service is None:
        references = [(view, view, feature) for view, _, feature in (reference.partition(":") for reference in request["features"])]
    else:
        references = [(projection.name_to_use(), projection.name, feature.name) for projection in service.feature_view_projections
                      for feature in projection.features]
    on_demand = {view.name for view in store.list_on_demand_feature_views(allow_cache=True)}
    names = [f"{alias}__{feature}" if full else feature for alias, _, feature in references]
    return RequestedFeatures(names, frozenset(name for name, (_, view, _) in zip(names, references) if view in on_demand))


def in_requested_order(response: dict[str, Any], requested: list[str]) -> dict[str, Any]:
    """The response with its features in `requested` order; the entity keys Feast puts first stay
    first. Names Feast returns that were not asked for keep their place after those."""
    names: list[str] = response["metadata"]["feature_names"]
    place = {name: rank for rank, name in enumerate(requested)}
    keys = [i for i, name in enumerate(names) if name not in place]
    order = keys + sorted((i for i in range(len(names)) if names[i] in place), key=lambda i: place[names[i]])
    return {**response, "metadata": {**response["metadata"], "feature_names": [names[i] for i in order]},
            "results": [response["results"][i] for i in order]}


def unknown_entities(response: dict[str, Any], requested: RequestedFeatures) -> list[Any]:
    """The entity key values (a customer id; an object of them for a compound key) of the rows for
    which every stored feature asked for is NOT_FOUND. Derived features alone tell nothing: then none."""
    names: list[str] = response["metadata"]["feature_names"]
    results: list[dict[str, Any]] = response["results"]
    asked = set(requested.names)
    keys = [i for i, name in enumerate(names) if name not in asked]
    stored = [results[i]["statuses"] for i, name in enumerate(names) if name in asked and name not in requested.derived]
    if not keys or not stored:
        return []
    rows = [row for row in range(len(results[keys[0]]["values"])) if all(statuses[row] == NOT_FOUND for statuses in stored)]
    if len(keys) == 1:
        return [results[keys[0]]["values"][row] for row in rows]
    return [{names[i]: results[i]["values"][row] for i in keys} for row in rows]


def shaped_answer(response: dict[str, Any], requested: RequestedFeatures) -> dict[str, Any]:
    """Feast's answer in the requested order, with `unknown_entities` beside `results` and `metadata`."""
    return {**in_requested_order(response, requested.names), "unknown_entities": unknown_entities(response, requested)}


def shaping_read_answer(send: Send, requested: RequestedFeatures) -> Send:
    """An ASGI `send` that holds Feast's answer to a read and sends it on shaped (errors pass as they are)."""

    async def rewrite(start: dict, body: bytes) -> None:
        shaped = json.dumps(shaped_answer(json.loads(body), requested), separators=(",", ":")).encode()
        headers = [(name, value) for name, value in start.get("headers", []) if name.lower() != b"content-length"]
        await send({**start, "headers": [*headers, (b"content-length", str(len(shaped)).encode())]})
        await send({"type": "http.response.body", "body": shaped})

    return holding_answers(send, lambda status: status == 200, rewrite)
