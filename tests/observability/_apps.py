"""A raw ASGI app for the observability tests: scripted statuses, records the headers it receives."""

from __future__ import annotations

from typing import Any


class FlakyApp:
    """Answers request n with statuses[n] (the last repeats); keeps every request's headers."""

    def __init__(self, *statuses: int, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self.statuses = statuses
        self.extra_headers = headers or []
        self.seen: list[dict[str, str]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        while (await receive()).get("more_body"):
            pass
        self.seen.append({k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]})
        status = self.statuses[min(len(self.seen), len(self.statuses)) - 1]
        headers = [(b"content-type", b"text/plain"), *self.extra_headers]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"done"})
