"""Raw ASGI apps for the loopback tests: a server that fails on demand and one with a slow tail."""

from __future__ import annotations

from typing import Any

import anyio

Scope = dict[str, Any]


async def _answer(send: Any, status: int, body: bytes = b"") -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class FlakyApp:
    """Answers 503 while `failing`, else 200; counts the requests that reached it."""

    def __init__(self) -> None:
        self.hits = 0
        self.failing = True

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.hits += 1
        await _answer(send, 503 if self.failing else 200)


class TailApp:
    """Delays the first arrival of every call whose `x-call` number is a multiple of `every` by `delay`
    seconds (5% of calls for every=20); hedges of it (second arrivals) answer at once."""

    def __init__(self, every: int = 20, delay: float = 0.5) -> None:
        self.every, self.delay = every, delay
        self.hits = 0
        self.seen: set[bytes] = set()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.hits += 1
        call = dict(scope["headers"]).get(b"x-call", b"0")
        first = call not in self.seen
        self.seen.add(call)
        if first and int(call) % self.every == 0:
            await anyio.sleep(self.delay)
        await _answer(send, 200, b"ok")
