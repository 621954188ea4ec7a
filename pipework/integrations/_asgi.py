"""Bound outbound calls by the inbound request: its time budget (a header) and its lifetime (disconnects).

Framework-neutral (plain ASGI `receive` and a headers mapping), so FastAPI, Starlette and any ASGI
server work without pipework depending on them. Pass the budget as the per-call `timeout_budget` option.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import anyio

__all__ = ["budget_from_headers", "cancel_on_disconnect"]

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]


def budget_from_headers(
    headers: Mapping[str, str],
    *,
    header: str = "x-request-timeout",
    default: float | None = None,
    reserve: float = 0.0,
) -> float | None:
    """Seconds the outbound call may take: the inbound header's value (seconds) less `reserve`, never below 0.

    `reserve` keeps time for the service's own work after the outbound call. A missing, malformed,
    negative or non-finite header gives `default` (less `reserve`); None means "no bound beyond the
    client's own". Pass the result as `timeout_budget=`: the retry deadline is the earlier of it and
    RetryConfig.timeout.
    """
    raw = headers.get(header)
    value = default
    if raw is not None:
        try:
            parsed = float(raw.strip())
        except ValueError:
            parsed = math.nan
        if math.isfinite(parsed) and parsed >= 0:
            value = parsed
    if value is None:
        return None
    return max(0.0, value - reserve)


@asynccontextmanager
async def cancel_on_disconnect(receive: Receive) -> AsyncIterator[anyio.CancelScope]:
    """`async with cancel_on_disconnect(request.receive) as scope:` — the block is cancelled when the client goes.

    ASGI servers do not cancel a handler whose client disconnected; this watches `receive` for
    `http.disconnect` and cancels the block, so outbound attempts and retry sleeps stop at once.
    `scope.cancelled_caught` tells afterwards whether that happened. Enter it after the request body was
    read (the watcher consumes `receive` messages).
    """
    async with anyio.create_task_group() as group:
        try:
            with anyio.CancelScope() as scope:
                group.start_soon(_watch, receive, scope)
                yield scope
        finally:
            group.cancel_scope.cancel()  # the block is over: stop watching


async def _watch(receive: Receive, scope: anyio.CancelScope) -> None:
    while (await receive()).get("type") != "http.disconnect":
        pass
    scope.cancel()
