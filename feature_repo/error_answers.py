"""Every error the feature server answers, in one shape: `{"error": {"status": 422, "message": "..."}}`.

The gate's own refusals are written here, and Feast's errors are rewritten here into the same
shape. Feast's app answers a `FeastError` as a JSON string holding another JSON document
(`"{\\"module\\": ..., \\"class\\": ..., \\"message\\": ...}"`), any other exception as a JSON string
of its text, and FastAPI's own errors as `{"detail": "..."}` or, for a body that fails its schema,
`{"detail": [{"loc": [...], "msg": "..."}]}`. None of that is documented API:
tests/features/test_error_answers.py produces each through Feast's own app, so an upgrade that
changes one fails there, by name.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from feature_repo.held_answers import Send, holding_answers


class RequestRefused(Exception):
    """A request the gate answers itself, with this status and message."""

    def __init__(self, status: int, message: str, headers: list[tuple[bytes, bytes]] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or []


async def answer_error(send: Send, status: int, message: str, headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    """Send a whole error answer."""
    body = json.dumps({"error": {"status": status, "message": message}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


def read_feast_error(status: int, body: bytes) -> tuple[int, str]:
    """The status and message to answer for an error answer of Feast's app."""
    try:
        detail: Any = json.loads(body)
    except ValueError:
        return status, body.decode("utf-8", "replace").strip() or HTTPStatus(status).phrase
    if isinstance(detail, str):  # an exception's text, or a FeastError's JSON document
        try:
            inner = json.loads(detail)
        except ValueError:
            inner = None
        message = inner["message"] if isinstance(inner, dict) and "message" in inner else detail
    elif isinstance(detail, dict) and isinstance(detail.get("detail"), list):
        # FastAPI's schema validation of the body: the request is malformed.
        return 400, "; ".join(f"{'.'.join(str(part) for part in error.get('loc', ())[1:]) or 'body'}: {error.get('msg')}"
                              for error in detail["detail"] if isinstance(error, dict))
    elif isinstance(detail, dict):
        message = detail.get("detail") or detail.get("error") or HTTPStatus(status).phrase
    else:
        message = HTTPStatus(status).phrase
    # Feast answers 404 for an object a request names (a push source, a vector store) that does not
    # exist; this server keeps 404 for an unknown route.
    return (422 if status == 404 else status), str(message)


def shaping_errors(send: Send) -> Send:
    """An ASGI `send` that passes answers under 400 on as they come and rewrites Feast's errors in the one shape."""

    async def rewrite(start: dict, body: bytes) -> None:
        status, text = read_feast_error(start["status"], body)
        kept = [(name, value) for name, value in start.get("headers", []) if name.lower() not in (b"content-type", b"content-length")]
        await answer_error(send, status, text, kept)

    return holding_answers(send, lambda status: status >= 400, rewrite)
