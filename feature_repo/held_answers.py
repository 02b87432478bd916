"""ASGI plumbing of the gate: a `send` that holds back one kind of answer whole, for the gate to rewrite
before it leaves, and a `receive` that hands the app a body the gate has already read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

Send = Callable[[dict], Awaitable[None]]
"""An ASGI `send`."""


def holding_answers(send: Send, held: Callable[[int], bool], rewrite: Callable[[dict, bytes], Awaitable[None]]) -> Send:
    """Answers whose status `held` accepts are collected (start message and whole body) and handed
    to `rewrite`, which sends what goes out instead; all others pass on as they come."""
    start: dict | None = None
    chunks: list[bytes] = []

    async def send_holding(message: dict) -> None:
        nonlocal start
        if message["type"] == "http.response.start" and held(message["status"]):
            start = message
            return
        if start is None or message["type"] != "http.response.body":
            return await send(message)
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            await rewrite(start, b"".join(chunks))

    return send_holding


def replaying(body: bytes) -> Callable[[], Awaitable[dict]]:
    """A `receive` that hands the app `body`, then a disconnect."""
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive
