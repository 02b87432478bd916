"""Feast's error answers, produced by Feast's own app, read by the adapter (`error_answers.py`): each
test fails when a Feast or FastAPI upgrade changes how an error is encoded."""

import asyncio

import pytest
from feast.feature_server import get_app

from feature_repo.error_answers import read_feast_error, shaping_errors
from tests.features.served_app import call, small_feature_store

ENTITIES = {"customer_id": ["cus_ann"]}


@pytest.fixture(scope="module")
def feast_app(tmp_path_factory):
    return get_app(small_feature_store(tmp_path_factory.mktemp("store")))


def test_a_feast_error_is_read_from_the_json_string_feast_nests_it_in(feast_app):
    answer = call(feast_app, "POST", "/get-online-features",
                  {"features": ["customer_profile:interests", "customer_profile:interests"], "entities": ENTITIES})
    assert answer.body.startswith(b'"{\\"module\\"')  # a JSON string holding a JSON document
    status, message = read_feast_error(answer.status, answer.body)
    assert status == 500 and message.startswith("Duplicate features named interests found.")


def test_any_other_exception_is_read_from_the_json_string_of_its_text(feast_app):
    answer = call(feast_app, "POST", "/get-online-features", {"features": ["customer_profile:interests"], "entities": {"user_id": ["a"]}})
    assert read_feast_error(answer.status, answer.body) == (500, "\"Missing join key values for keys: ['customer_id']. No values "
                                                                 "provided for keys: ['customer_id']. Provided join_key_values: []\"")


def test_a_body_that_fails_fastapis_schema_is_a_malformed_request(feast_app):
    answer = call(feast_app, "POST", "/get-online-features", {"features": ["customer_profile:interests"], "entities": 3})
    assert answer.status == 422
    assert read_feast_error(answer.status, answer.body) == (400, "entities: Input should be a valid dictionary")


def test_an_object_feast_does_not_find_is_a_request_naming_the_unknown_not_an_unknown_route(feast_app):
    answer = call(feast_app, "POST", "/get-online-features", {"feature_service": "nope", "entities": ENTITIES})
    assert answer.status == 404
    assert read_feast_error(answer.status, answer.body) == (422, "Feature service nope does not exist in project gate_check")


def test_fastapis_own_answers_keep_their_status_and_detail(feast_app):
    answer = call(feast_app, "GET", "/get-online-features")
    assert read_feast_error(answer.status, answer.body) == (405, "Method Not Allowed")


def test_a_body_that_is_not_json_is_the_message_itself():
    assert read_feast_error(502, b"upstream gone\n") == (502, "upstream gone")
    assert read_feast_error(503, b"") == (503, "Service Unavailable")


def test_errors_are_rewritten_whole_and_successes_pass_untouched():
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    async def answer(status: int, chunks: list[bytes]) -> None:
        shaped = shaping_errors(send)
        await shaped({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"99"), (b"allow", b"POST")]})
        for index, chunk in enumerate(chunks):
            await shaped({"type": "http.response.body", "body": chunk, "more_body": index < len(chunks) - 1})

    asyncio.run(answer(405, [b'{"detail":', b'"Method Not Allowed"}']))
    start, body = sent
    assert start["status"] == 405 and body["body"] == b'{"error": {"status": 405, "message": "Method Not Allowed"}}'
    assert dict(start["headers"]) == {b"content-type": b"application/json", b"content-length": str(len(body["body"])).encode(),
                                      b"allow": b"POST"}
    sent.clear()
    asyncio.run(answer(200, [b"[1,", b"2]"]))
    assert [message.get("body") for message in sent] == [None, b"[1,", b"2]"]
