"""The serving gate around Feast's own app, in-process over a small store: every error in one shape
with its 4xx status, lists served as lists, unknown ids named beside Feast's answer."""

import pytest
from feast.feature_server import get_app

from feature_repo.feature_server import GateSettings, ServingGate
from tests.features.served_app import call, small_feature_store

ENTITIES = {"customer_id": ["cus_ann", "cus_bob", "cus_nobody"]}
READ = {"feature_service": "personalization_app", "entities": ENTITIES}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    store = small_feature_store(tmp_path_factory.mktemp("store"))
    return store, get_app(store)


def gate(served, **settings) -> ServingGate:
    store, app = served
    return ServingGate(app, store, GateSettings(**settings))


def _values(body: dict) -> dict[str, list]:
    return {name: result["values"] for name, result in zip(body["metadata"]["feature_names"], body["results"])}


def test_a_read_serves_interests_as_lists_and_names_the_ids_no_view_holds(served):
    answer = call(gate(served), "POST", "/get-online-features", READ)
    assert answer.status == 200, answer.body
    body = answer.json()
    values = _values(body)
    assert list(values) == ["customer_id", "orders_lifetime", "preferred_channel", "interests", "orders_doubled"]
    assert values["interests"] == [["Shoes", "Bags"], [], None]
    # Bob has a profile but no purchase row: known. The derived feature is PRESENT for anyone, so it does not count.
    assert body["unknown_entities"] == ["cus_nobody"]
    assert body["results"][4]["statuses"] == ["PRESENT"] * 3


def test_a_read_of_known_ids_or_of_derived_features_alone_names_none(served):
    known = call(gate(served), "POST", "/get-online-features", {**READ, "entities": {"customer_id": ["cus_bob"]}})
    assert known.json()["unknown_entities"] == []
    derived = call(gate(served), "POST", "/get-online-features",
                   {"features": ["customer_purchase_derived:orders_doubled"], "entities": ENTITIES})
    assert derived.json()["unknown_entities"] == []


@pytest.mark.parametrize("body, status, says", [
    (b"{", 400, "not JSON"),
    (b"", 400, "must be a JSON object"),
    (b"[1]", 400, "must be a JSON object"),
    ({"feature_service": "personalization_app"}, 400, '"entities" must map a join key (customer_id)'),  # no entities
    ({**READ, "entities": {"customer_id": []}}, 400, "non-empty list"),
    ({**READ, "entities": {"customer_id": [{"id": 1}]}}, 400, "strings or integers"),
    ({"entities": ENTITIES}, 400, 'Name either a "feature_service" or a list of "features"'),
    ({**READ, "features": ["customer_profile:interests"]}, 400, "Name either"),  # both
    ({"features": "customer_profile:interests", "entities": ENTITIES}, 400, '"features" must be a non-empty list'),
    ({**READ, "entities": {"user_id": ["cus_ann"]}}, 422, "Unknown entity key(s) user_id: accepted are customer_id"),
    ({**READ, "feature_service": "nope"}, 422, "No feature service 'nope'; there are: personalization_app"),
    ({"features": ["nope:x"], "entities": ENTITIES}, 422, "No feature view 'nope'"),
    ({"features": ["interests"], "entities": ENTITIES}, 422, "No feature view 'interests'"),  # no view named
    ({"features": ["customer_profile:nope"], "entities": ENTITIES}, 422, "it has: interests, preferred_channel"),
    # Feast alone answers 500 for this one.
    ({"features": ["customer_profile:interests"] * 2, "entities": ENTITIES}, 422, "would name interests more than once"),
    ({**READ, "entities": {"customer_id": ["x"] * 11}}, 413, "at most 10 per request"),
])
def test_a_mistaken_read_gets_its_status_and_a_message_in_the_error_shape(served, body, status, says):
    answer = call(gate(served, max_entities=10), "POST", "/get-online-features", body)
    assert answer.status == status and answer.headers[b"content-type"] == b"application/json"
    error = answer.json()["error"]
    assert answer.json() == {"error": error} and error["status"] == status and says in error["message"], error


@pytest.mark.parametrize("method, path, allow_writes, status, says", [
    ("POST", "/nope", False, 404, "No route /nope: this server answers POST /get-online-features and GET /health"),
    ("POST", "/nope", True, 404, "No route /nope"),
    ("POST", "/push", False, 403, "`cxp serve --allow-writes`"),
    ("GET", "/v1/vector_stores/some_view", False, 403, "is not served"),  # Feast's route, a path parameter in it
    ("GET", "/get-online-features", False, 405, "takes POST"),
])
def test_routes_the_gate_does_not_serve_get_their_own_status(served, method, path, allow_writes, status, says):
    answer = call(gate(served, allow_writes=allow_writes), method, path, b"{}")
    assert answer.status == status and says in answer.json()["error"]["message"]
    assert answer.json()["error"]["status"] == status
    if status == 405:
        assert answer.headers[b"allow"] == b"POST"


def test_auth_and_size_refusals_are_in_the_same_shape(served):
    guarded = gate(served, token="s3cret", max_body_bytes=100)
    refused = call(guarded, "POST", "/get-online-features", READ)
    assert refused.status == 401 and refused.json()["error"]["status"] == 401 and "Bearer" in refused.json()["error"]["message"]
    assert refused.headers[b"www-authenticate"] == b'Bearer realm="cxp"'
    too_big = call(guarded, "POST", "/get-online-features", {**READ, "pad": "x" * 200}, headers={"Authorization": "Bearer s3cret"})
    assert too_big.status == 413 and too_big.json()["error"]["status"] == 413 and "exceeds 100 bytes" in too_big.json()["error"]["message"]
    assert call(guarded, "GET", "/health").status == 200


def test_feasts_own_errors_behind_the_gate_come_back_in_the_shape(served):
    # With writes allowed, a push to a source that does not exist is answered by Feast (a JSON string inside the JSON).
    answer = call(gate(served, allow_writes=True), "POST", "/push", {"push_source_name": "nope", "df": {"customer_id": ["a"]}})
    assert answer.status == 422
    assert answer.json() == {"error": {"status": 422, "message": "Unable to find push source 'nope'."}}
