"""Feast's own HTTP app over a small store, called in-process as an ASGI app, for tests of what the
serving gate and its adapters make of Feast's answers (no server, no pipeline run)."""

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from feast import Entity, FeatureService, FeatureStore, FeatureView, Field, FileSource, ValueType
from feast.on_demand_feature_view import on_demand_feature_view
from feast.repo_config import RepoConfig
from feast.types import Array, Float64, Int64, String

from feature_repo.held_answers import replaying

# Two customers: one with interests and orders, one with no interests and no purchase row.
PROFILES = pd.DataFrame({"customer_id": ["cus_ann", "cus_bob"], "preferred_channel": ["email", None],
                         "interests": [["Shoes", "Bags"], []], "event_timestamp": [pd.Timestamp("2026-03-04T00:00:00Z")] * 2})
PURCHASES = pd.DataFrame({"customer_id": ["cus_ann"], "orders_lifetime": [3], "event_timestamp": [pd.Timestamp("2026-03-04T00:00:00Z")]})


def small_feature_store(directory: Path) -> FeatureStore:
    """Views `customer_profile` (interests a list of strings) and `customer_purchase`, an on-demand
    view over orders, and the service `personalization_app`; both customers written online."""
    config = RepoConfig(project="gate_check", provider="local", registry=str(directory / "registry.db"),
                        online_store={"type": "sqlite", "path": str(directory / "online.db")}, offline_store={"type": "file"},
                        entity_key_serialization_version=3, repo_path=str(directory))
    store = FeatureStore(config=config)
    customer = Entity(name="customer", join_keys=["customer_id"], value_type=ValueType.STRING)

    def view(name: str, rows: pd.DataFrame, schema: list[Field]) -> FeatureView:
        rows.to_parquet(directory / f"{name}.parquet")
        return FeatureView(name=name, entities=[customer], ttl=None, online=True, schema=[Field(name="customer_id", dtype=String), *schema],
                           source=FileSource(path=str(directory / f"{name}.parquet"), timestamp_field="event_timestamp"))

    profile = view("customer_profile", PROFILES, [Field(name="preferred_channel", dtype=String), Field(name="interests", dtype=Array(String))])
    purchase = view("customer_purchase", PURCHASES, [Field(name="orders_lifetime", dtype=Int64)])

    @on_demand_feature_view(sources=[purchase[["orders_lifetime"]]], schema=[Field(name="orders_doubled", dtype=Float64)], mode="python")
    def customer_purchase_derived(inputs: dict[str, Any]) -> dict[str, Any]:
        return {"orders_doubled": [None if orders is None else 2.0 * orders for orders in inputs["orders_lifetime"]]}

    service = FeatureService(name="personalization_app", features=[purchase, profile, customer_purchase_derived])
    store.apply([customer, profile, purchase, customer_purchase_derived, service])
    store.write_to_online_store("customer_profile", PROFILES)
    store.write_to_online_store("customer_purchase", PURCHASES)
    return store


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[bytes, bytes]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(app, method: str, path: str, body: bytes | dict | None = None, headers: dict[str, str] | None = None) -> Answer:
    """One HTTP request to an ASGI app, in-process. An exception Feast's app re-raises after answering
    (as Starlette does for a 500) is left to the server's log, as uvicorn would."""
    raw = json.dumps(body).encode() if isinstance(body, dict) else body or b""
    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"content-type", b"application/json"), *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items())],
             "http_version": "1.1", "scheme": "http", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1)}
    messages: list[dict] = []

    async def run() -> None:
        async def send(message: dict) -> None:
            messages.append(message)

        try:
            await app(scope, replaying(raw), send)
        except Exception:
            if not any(message["type"] == "http.response.start" for message in messages):
                raise

    asyncio.run(run())
    start = next(message for message in messages if message["type"] == "http.response.start")
    return Answer(start["status"], dict(start.get("headers", [])),
                  b"".join(message.get("body", b"") for message in messages if message["type"] == "http.response.body"))
