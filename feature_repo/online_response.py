"""Feast's `/get-online-features` answer, shaped for app developers by the serving gate: features
in the order the request named them, whatever order Feast's stores return them in.

Plain functions on the decoded request and response; `feature_server.py` applies them.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from feast import FeatureStore

Send = Callable[[dict], Awaitable[None]]


def requested_names(request: dict[str, Any], store: FeatureStore) -> list[str]:
    """The response's names of the features a (checked) read asks for, in the order it asks: its
    `features` list, or its feature service's features as the service lists them."""
    full = bool(request.get("full_feature_names"))
    if request.get("features") is not None:
        references = [tuple(reference.partition(":")[::2]) for reference in request["features"]]
    else:
        service = store.get_feature_service(request["feature_service"], allow_cache=True)
        references = [(projection.name_to_use(), feature.name) for projection in service.feature_view_projections
                      for feature in projection.features]
    return [f"{view}__{feature}" if full else feature for view, feature in references]


def in_requested_order(response: dict[str, Any], requested: list[str]) -> dict[str, Any]:
    """The response with its features in `requested` order; the entity keys Feast puts first stay
    first. Names Feast returns that were not asked for keep their place after those."""
    names: list[str] = response["metadata"]["feature_names"]
    place = {name: rank for rank, name in enumerate(requested)}
    keys = [i for i, name in enumerate(names) if name not in place]
    order = keys + sorted((i for i in range(len(names)) if names[i] in place), key=lambda i: place[names[i]])
    return {**response, "metadata": {**response["metadata"], "feature_names": [names[i] for i in order]},
            "results": [response["results"][i] for i in order]}


def reordering(send: Send, requested: list[str]) -> Send:
    """An ASGI `send` that holds Feast's answer to a read and sends it on in the requested order
    (errors pass as they are)."""
    start: dict | None = None
    chunks: list[bytes] = []

    async def send_reordered(message: dict) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
            return
        if message["type"] != "http.response.body" or start is None:
            return await send(message)
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        body = b"".join(chunks)
        if start["status"] == 200:
            body = json.dumps(in_requested_order(json.loads(body), requested), separators=(",", ":")).encode()
        headers = [(name, value) for name, value in start.get("headers", []) if name.lower() != b"content-length"]
        await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return send_reordered
