"""Auth test helpers: a scripted credential, and a check that no secret reaches any log record.

Every secret used by the auth tests contains the marker `SECRET`. Each test runs with DEBUG logging
captured on the root logger; after it, no record (message, arguments, traceback) may contain the marker.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest

from pipework import AccessToken, Pipeline, Policy
from pipework.transports import ScriptedTransport

MARKER = "SECRET"


@pytest.fixture(autouse=True)
def no_secret_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Capture every record at DEBUG and fail the test if one of them shows a secret."""
    caplog.set_level(logging.DEBUG)
    yield caplog
    formatter = logging.Formatter()
    records = [*caplog.get_records("setup"), *caplog.get_records("call")]
    for record in records:
        text = record.getMessage()
        if record.exc_info:
            text += formatter.formatException(record.exc_info)
        assert MARKER not in text, f"a secret reached the log: {record.name} {record.levelname}"


class ScriptedCredential:
    """An async token credential: call n returns token `SECRET-tok-n` (or raises the scripted error).

    `lifetimes[n]` is that token's lifetime in seconds (the last one repeats); `errors` maps call numbers
    (1-based) to exceptions. `calls` records (scopes, kwargs) of every call; `gate`, when set, is awaited
    before answering (a refresh that takes a while).
    """

    def __init__(
        self,
        *lifetimes: float,
        errors: dict[int, Exception] | None = None,
        delay: float = 0.0,
        refresh_in: float | None = None,
    ) -> None:
        self.lifetimes = lifetimes or (3600.0,)
        self.errors = errors or {}
        self.delay = delay
        self.refresh_in = refresh_in
        self.calls: list[tuple[tuple[str, ...], dict[str, Any]]] = []
        self.gate: anyio.Event | None = None

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls.append((scopes, kwargs))
        number = len(self.calls)
        if self.delay:
            await anyio.sleep(self.delay)
        if self.gate is not None:
            await self.gate.wait()
        if number in self.errors:
            raise self.errors[number]
        from pipework.auth._bearer import unix_now

        now = unix_now()
        lifetime = self.lifetimes[min(number, len(self.lifetimes)) - 1]
        refresh_on = now + self.refresh_in if self.refresh_in is not None else None
        return AccessToken(f"{MARKER}-tok-{number}", now + lifetime, refresh_on)


class SyncCredential:
    """A blocking credential (azure.identity's shape): records the thread each call ran on."""

    def __init__(self) -> None:
        self.threads: list[int] = []

    def get_token(self, *scopes: str, claims: str | None = None, tenant_id: str | None = None) -> AccessToken:
        self.threads.append(threading.get_ident())
        time.sleep(0.001)
        return AccessToken(f"{MARKER}-sync-{len(self.threads)}", time.time() + 3600)


def pipeline(policy: Policy, transport: ScriptedTransport) -> Pipeline:
    """The policy alone in front of the transport."""
    return Pipeline(transport, [policy])


def bearer_of(request: httpx.Request) -> str | None:
    """The bearer token a request carried (None without one)."""
    value = request.headers.get("authorization")
    return value.removeprefix("Bearer ") if value and value.startswith("Bearer ") else None


class Wire(ScriptedTransport):
    """A ScriptedTransport that also records the bearer token and URL each request carried on arrival
    (the policy may change the same request object again for a resend)."""

    def __init__(self, *steps: Any, repeat_last: bool = False) -> None:
        super().__init__(*steps, repeat_last=repeat_last)
        self.tokens: list[str | None] = []
        self.urls: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.tokens.append(bearer_of(request))
        self.urls.append(str(request.url))
        return await super().handle_async_request(request)
