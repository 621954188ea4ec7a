"""A flaky upstream for the examples: `/items/KEY` answers 503 (Retry-After: 0) twice per key, then 200 JSON;
`/lines` streams 100 lines. Started on a free 127.0.0.1 port when an example is run without an upstream URL."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any


class FlakyUpstream:
    """A raw ASGI app (no framework needed)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        self.counts[path] += 1
        if path == "/lines":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            for n in range(100):
                await send({"type": "http.response.body", "body": b"line %d\n" % n, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            return
        failing = path.startswith("/items/") and self.counts[path] <= 2
        status = 503 if failing else 200
        headers = [(b"content-type", b"application/json")] + ([(b"retry-after", b"0")] if failing else [])
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send(
            {"type": "http.response.body", "body": json.dumps({"path": path, "ok": not failing}).encode()}
        )
