"""Feast's feature server, fit for a network: a gate in front of Feast's own HTTP app.

Feast's app answers every route it has to anyone who reaches it: `/push`, `/write-to-online-store`
and `/materialize` write to the store, one request may ask for any number of customers, and a
request naming an unknown feature, an unknown entity key or no entity at all fails inside Feast
as HTTP 500, its message a JSON string inside the JSON. The gate, an ASGI middleware around Feast's
app, lets through:

- `/health` to anyone (load balancers' probes);
- with a token configured (CXP_FEATURE_SERVER_TOKEN), only requests bearing it (401 otherwise);
- only `POST /get-online-features` unless writes are allowed (403 for Feast's other routes, 405
  for another method, 404 for a route Feast does not have);
- bodies up to a size (413) and reads that `read_requests.py` accepts (400, 422, 413).

Every error, the gate's or Feast's, is `{"error": {"status": ..., "message": ...}}`
(`error_answers.py`). A read's JSON body is taken as JSON whatever its Content-Type, and its answer
lists the features in the order the request named them and names the unknown ids
(`online_response.py`).

Feast's own `auth:` (OIDC, Kubernetes) in feature_store.yaml still applies behind the gate. The
server itself is Feast's: its gunicorn application and its security and auth managers.
"""

from __future__ import annotations

import argparse
import hmac
import os
from dataclasses import dataclass

from feast import FeatureStore
from starlette.routing import Match

from feature_repo.error_answers import RequestRefused, answer_error, shaping_errors
from feature_repo.held_answers import replaying
from feature_repo.online_response import shaping_read_answer
from feature_repo.read_requests import check_read

READ_ROUTE = "/get-online-features"
OPEN_ROUTES = ("/health",)
SERVED = f"this server answers POST {READ_ROUTE} and GET /health"


@dataclass(frozen=True)
class GateSettings:
    """What the gate lets through."""

    token: str | None = None
    allow_writes: bool = False
    max_entities: int = 1000
    max_body_bytes: int = 1_048_576


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
            self._check_route(path, scope)
            body = await self._body(scope, receive)
            answer = shaping_errors(send)
            if path == READ_ROUTE:
                requested = check_read(body, self.store, self.settings.max_entities)
                # A checked JSON body is JSON whatever its Content-Type said (Feast's app would answer
                # 422 with the body quoted as a string), and the answer follows the request's order.
                scope = {**scope, "headers": [*(h for h in scope.get("headers", []) if h[0].lower() != b"content-type"),
                                              (b"content-type", b"application/json")]}
                answer = shaping_read_answer(answer, requested)
        except RequestRefused as refusal:
            if scope["type"] != "http":
                return await send({"type": "websocket.close", "code": 1008, "reason": refusal.message[:120]})
            return await answer_error(send, refusal.status, refusal.message, refusal.headers)
        await self.app(scope, replaying(body), answer)

    def _authorize(self, scope: dict) -> None:
        if self.settings.token is None:
            return
        headers = dict(scope.get("headers") or [])
        sent = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _, token = sent.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), self.settings.token.encode()):
            raise RequestRefused(401, "Missing or wrong bearer token: send `Authorization: Bearer <token>`.",
                                 [(b"www-authenticate", b'Bearer realm="cxp"')])

    def _check_route(self, path: str, scope: dict) -> None:
        if path == READ_ROUTE:
            if scope["method"] != "POST":
                raise RequestRefused(405, f"{READ_ROUTE} takes POST with a JSON body, not {scope['method']}.", [(b"allow", b"POST")])
            return
        # Starlette's own matching: a route of Feast's app, its path parameters included.
        if not any(route.matches(scope)[0] != Match.NONE for route in getattr(self.app, "routes", ())):
            raise RequestRefused(404, f"No route {path}: {SERVED}.")
        if not self.settings.allow_writes:
            raise RequestRefused(403, f"{path} is not served: {SERVED}. Writes and Feast's other routes need `cxp serve --allow-writes`.")

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
