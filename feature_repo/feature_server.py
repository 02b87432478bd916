"""Feast's feature server, fit for a network: a gate in front of Feast's own HTTP app.

Feast's app answers every route it has to anyone who reaches it: `/push`, `/write-to-online-store`
and `/materialize` write to the store, one request may ask for any number of customers, and a
request naming an unknown feature, an unknown entity key or no entity at all fails inside Feast
as HTTP 500. The gate, an ASGI middleware around Feast's app, lets through:

- `/health` to anyone (load balancers' probes);
- with a token configured (CXP_FEATURE_SERVER_TOKEN), only requests bearing it (401 otherwise);
- only `/get-online-features` unless writes are allowed (403 for Feast's other routes);
- bodies up to a size (413) and up to a number of entity rows (413);
- well-formed reads: JSON (400), entities as equal-length, non-empty lists under known join keys
  (422), a known feature service or `view:feature` references that exist (404), each with a
  message naming what is wrong and what is accepted; a read's JSON body is taken as JSON whatever
  its Content-Type, and its answer lists the features in the order the request named them
  (`online_response.py`).

Feast's own `auth:` (OIDC, Kubernetes) in feature_store.yaml still applies behind the gate. The
server itself is Feast's: its gunicorn application and its security and auth managers.
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
from dataclasses import dataclass
from typing import Any

from feast import FeatureStore
from feast.errors import FeastObjectNotFoundException

from feature_repo.online_response import reordering, requested_names

READ_ROUTE = "/get-online-features"
OPEN_ROUTES = ("/health",)


@dataclass(frozen=True)
class GateSettings:
    """What the gate lets through."""

    token: str | None = None
    allow_writes: bool = False
    max_entities: int = 1000
    max_body_bytes: int = 1_048_576


class RequestRefused(Exception):
    """A request the gate answers itself, with this status and message."""

    def __init__(self, status: int, message: str, headers: list[tuple[bytes, bytes]] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or []


class ServingGate:
    """ASGI middleware: checks each HTTP request, then hands it, body replayed, to Feast's app."""

    def __init__(self, app, store: FeatureStore, settings: GateSettings):
        self.app, self.store, self.settings = app, store, settings

    async def __call__(self, scope: dict, receive, send) -> None:
        if scope["type"] == "lifespan":
            return await self.app(scope, receive, send)
        try:
            if scope["type"] != "http":  # the chat websocket
                if not self.settings.allow_writes:
                    raise RequestRefused(403, "Websockets are off; `cxp serve --allow-writes` serves every Feast route.")
                self._authorize(scope)
                return await self.app(scope, receive, send)
            path = scope["path"].rstrip("/") or "/"
            if path in OPEN_ROUTES:
                return await self.app(scope, receive, send)
            self._authorize(scope)
            if path != READ_ROUTE and not self.settings.allow_writes:
                raise RequestRefused(403, f"{path} is not served: this server answers {READ_ROUTE} and /health. "
                                          "Writes and Feast's other routes need `cxp serve --allow-writes`.")
            body = await self._body(scope, receive)
            if path == READ_ROUTE and scope["method"] == "POST":
                request = self._check_read(body)
                # A checked JSON body is JSON whatever its Content-Type said (Feast's app would answer
                # 422 with the body quoted as a string), and the answer follows the request's order.
                scope = {**scope, "headers": [*(h for h in scope.get("headers", []) if h[0].lower() != b"content-type"),
                                              (b"content-type", b"application/json")]}
                send = reordering(send, requested_names(request, self.store))
        except RequestRefused as refusal:
            if scope["type"] != "http":
                return await send({"type": "websocket.close", "code": 1008, "reason": refusal.message[:120]})
            return await _answer(send, refusal)
        await self.app(scope, _replay(body), send)

    def _authorize(self, scope: dict) -> None:
        if self.settings.token is None:
            return
        headers = dict(scope.get("headers") or [])
        sent = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _, token = sent.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), self.settings.token.encode()):
            raise RequestRefused(401, "Missing or wrong bearer token: send `Authorization: Bearer <token>`.",
                                 [(b"www-authenticate", b'Bearer realm="cxp"')])

    async def _body(self, scope: dict, receive) -> bytes:
        limit = self.settings.max_body_bytes
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise RequestRefused(413, f"The request body is {int(declared):,} bytes; at most {limit:,} are accepted.")
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise RequestRefused(413, f"The request body exceeds {limit:,} bytes.")
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        return b"".join(chunks)

    def _check_read(self, body: bytes) -> dict[str, Any]:
        try:
            request = json.loads(body or b"null")
        except ValueError as error:
            raise RequestRefused(400, f"The body is not JSON: {error}.") from error
        if not isinstance(request, dict):
            raise RequestRefused(422, 'The body must be a JSON object: {"feature_service": ..., "entities": {...}}.')
        self._check_entities(request.get("entities"))
        self._check_features(request.get("feature_service"), request.get("features"))
        return request

    def _check_entities(self, entities: Any) -> None:
        accepted = self._entity_keys()
        example = ", ".join(sorted(accepted)) or "customer_id"
        if not isinstance(entities, dict) or not entities:
            raise RequestRefused(422, f'"entities" must map a join key ({example}) to a list of values.')
        unknown = sorted(set(entities) - accepted)
        if unknown:
            raise RequestRefused(422, f"Unknown entity key(s) {', '.join(unknown)}: accepted are {example}.")
        lengths = set()
        for key, values in entities.items():
            if not isinstance(values, list) or not values:
                raise RequestRefused(422, f'"entities.{key}" must be a non-empty list of values.')
            if not all(isinstance(value, (str, int)) and not isinstance(value, bool) for value in values):
                raise RequestRefused(422, f'"entities.{key}" must hold strings or integers only.')
            lengths.add(len(values))
        if len(lengths) > 1:
            raise RequestRefused(422, "Every entity key must list the same number of values.")
        rows = lengths.pop()
        if rows > self.settings.max_entities:
            raise RequestRefused(413, f"{rows:,} entity rows asked for; at most {self.settings.max_entities:,} per request. "
                                      "Split the request (or raise CXP_FEATURE_SERVER_MAX_ENTITIES).")

    def _check_features(self, service: Any, features: Any) -> None:
        if (service is None) == (features is None):
            raise RequestRefused(422, 'Name either a "feature_service" or a list of "features" ("view:feature").')
        if service is not None:
            if not isinstance(service, str):
                raise RequestRefused(422, '"feature_service" must be a name.')
            try:
                self.store.get_feature_service(service, allow_cache=True)
            except FeastObjectNotFoundException as error:
                names = ", ".join(sorted(s.name for s in self.store.list_feature_services()))
                raise RequestRefused(404, f"No feature service {service!r}; there are: {names}.") from error
            return
        if not isinstance(features, list) or not features or not all(isinstance(f, str) for f in features):
            raise RequestRefused(422, '"features" must be a non-empty list of "view:feature" names.')
        views = self._feature_names()
        for reference in features:
            view, _, feature = reference.partition(":")
            if view not in views:
                raise RequestRefused(404, f"No feature view {view!r} (in {reference!r}); there are: {', '.join(sorted(views))}.")
            if feature not in views[view]:
                raise RequestRefused(404, f"No feature {feature!r} in {view!r}; it has: {', '.join(sorted(views[view]))}.")

    def _entity_keys(self) -> set[str]:
        return {entity.join_key for entity in self.store.list_entities(allow_cache=True)}

    def _feature_names(self) -> dict[str, set[str]]:
        views = [*self.store.list_feature_views(allow_cache=True), *self.store.list_on_demand_feature_views(allow_cache=True)]
        return {view.name: {feature.name for feature in view.features} for view in views}


def _replay(body: bytes):
    """A `receive` that hands the app the body the gate already read."""
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


async def _answer(send, refusal: RequestRefused) -> None:
    body = json.dumps({"detail": refusal.message}).encode()
    await send({"type": "http.response.start", "status": refusal.status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *refusal.headers]})
    await send({"type": "http.response.body", "body": body})


def serve(store: FeatureStore, host: str, port: int, workers: int, gate: GateSettings) -> None:
    """Feast's gunicorn server (as `feast serve` starts it) with the gate around its app."""
    from feast.constants import DEFAULT_FEATURE_SERVER_REGISTRY_TTL
    from feast.feature_server import FeastServeApplication
    from feast.permissions.server.utils import ServerType, init_auth_manager, init_security_manager, str_to_auth_manager_type

    class GatedServeApplication(FeastServeApplication):
        def load(self):
            return ServingGate(super().load(), store, gate)

    auth_type = str_to_auth_manager_type(store.config.auth_config.type)
    init_security_manager(auth_type=auth_type, fs=store)
    init_auth_manager(auth_type=auth_type, server_type=ServerType.REST, auth_config=store.config.auth_config)
    GatedServeApplication(
        store=store, bind=f"{host}:{port}", accesslog=None, workers=workers, worker_connections=1000,
        # gunicorn recycles a worker every 1,000 requests by default: with one worker, p99 becomes ~1 s.
        max_requests=0, max_requests_jitter=0, keepalive=30,
        registry_ttl_sec=store.config.registry.cache_ttl_seconds or DEFAULT_FEATURE_SERVER_REGISTRY_TTL,
    ).run()


def main(argv: list[str] | None = None) -> None:
    """`python -O -m feature_repo.feature_server`: what `cxp serve` becomes (the token comes from
    CXP_FEATURE_SERVER_TOKEN, never the command line, which other users of the machine can read)."""
    parser = argparse.ArgumentParser(prog="cxp serve")
    parser.add_argument("--repo", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--allow-writes", action="store_true")
    parser.add_argument("--max-entities", type=int, default=1000)
    parser.add_argument("--max-body-bytes", type=int, default=1_048_576)
    arguments = parser.parse_args(argv)
    store = FeatureStore(repo_path=arguments.repo, fs_yaml_file=arguments.config)
    gate = GateSettings(token=os.environ.get("CXP_FEATURE_SERVER_TOKEN") or None, allow_writes=arguments.allow_writes,
                        max_entities=arguments.max_entities, max_body_bytes=arguments.max_body_bytes)
    serve(store, arguments.host, arguments.port, arguments.workers, gate)


if __name__ == "__main__":
    main()
