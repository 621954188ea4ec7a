"""A raw ASGI app for the redirect tests: redirects on demand, echoes what it received, counts requests."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any
from urllib.parse import parse_qs

from tests._asgi import read_body


class RedirectApp:
    """`/to?status=S&location=L` answers S with Location L; `/chain/N` redirects to N+1; `/loop` to itself;
    `/a/b/c` redirects to its X-Location header; `/flaky/KEY` answers 503 to its first two requests, then 200; anything else echoes the request as JSON."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self.counts: Counter[str] = Counter()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = await read_body(receive)
        path, query = scope["path"], scope["query_string"].decode()
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        record = {
            "method": scope["method"],
            "path": path,
            "query": query,
            "headers": headers,
            "body": body.decode(),
        }
        self.seen.append(record)
        self.counts[path] += 1
        params = {k: v[0] for k, v in parse_qs(query).items()}
        status, extra, payload = 200, [], json.dumps(record).encode()
        if path == "/to":
            status, extra, payload = (
                int(params["status"]),
                [(b"location", params["location"].encode())],
                b"moved",
            )
        elif path.startswith("/chain/"):
            status, extra, payload = 302, [(b"location", f"/chain/{int(path[7:]) + 1}".encode())], b""
        elif path == "/a/b/c" and not query and "x-location" in headers:
            status, extra, payload = 302, [(b"location", headers["x-location"].encode())], b""
        elif path == "/loop":
            status, extra, payload = 302, [(b"location", b"/loop")], b""
        elif path.startswith("/flaky/") and self.counts[path] <= 2:
            status, payload = 503, b"busy"
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    *extra,
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
