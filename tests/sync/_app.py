"""A raw ASGI app for the sync and integration tests: `/ok`, `/flaky/KEY` (503 twice, then 200), `/busy` (503,
Retry-After: 10), `/stream`, `/status/N`; others echo."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from tests._asgi import read_body

STREAM_LINES = [f"line {n}".encode() for n in range(200)]


class SyncTestApp:
    """Counts requests per path; `/flaky/KEY` answers 503 with Retry-After: 0 to its first two requests."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.headers: list[dict[str, str]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        path = scope["path"]
        self.counts[path] += 1
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.headers.append(headers)
        status, extra = 200, []
        if path.startswith("/flaky/") and self.counts[path] <= 2:
            status, extra = 503, [(b"retry-after", b"0")]
        elif path == "/busy":
            status, extra = 503, [(b"retry-after", b"10")]
        elif path.startswith("/status/"):
            status = int(path.rsplit("/", 1)[1])
        if path == "/stream":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            for line in STREAM_LINES:
                await send({"type": "http.response.body", "body": line + b"\n", "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            return
        payload = json.dumps({"method": scope["method"], "path": path, "body": body.decode()}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), *extra],
            }
        )
        await send({"type": "http.response.body", "body": payload})
