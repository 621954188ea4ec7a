"""Cancelling a call mid-sleep, mid-attempt, mid-stream and mid-token-refresh leaves nothing behind.

After each cancellation: no task left running, no connection left in use, the next call works; after
`aclose()` the pool is empty and every socket is closed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import anyio
import pytest

from pipework import AccessToken, AsyncPipelineClient, BearerTokenPolicy, HedgingPolicy, RetryConfig
from pipework.testing import serve

from ._support import live_tasks, open_sockets, pool_connections, wait_for_sockets

CANCEL_AFTER = 0.3


async def _wait_disconnect(receive: Any, limit: float) -> None:
    with anyio.move_on_after(limit):
        while (await receive())["type"] != "http.disconnect":
            pass


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """/hang: never answers (until the client leaves); /stream: an endless body; /busy: 503; else 200."""
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/hang":
        await _wait_disconnect(receive, 10)
        return
    if path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        async with anyio.create_task_group() as tg:

            async def pump() -> None:
                for _ in range(1000):
                    await send({"type": "http.response.body", "body": b"x" * 1024, "more_body": True})
                    await anyio.sleep(0.01)
                tg.cancel_scope.cancel()

            tg.start_soon(pump)
            await _wait_disconnect(receive, 10)
            tg.cancel_scope.cancel()
        return
    status = 503 if path == "/busy" else 200
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    """The cancellation app on loopback."""
    with serve(app) as base:
        yield base


class SlowCredential:
    """A token credential whose first `get_token` hangs until cancelled; later ones answer at once."""

    def __init__(self) -> None:
        self.calls = 0

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls += 1
        if self.calls == 1:
            await anyio.sleep_forever()
        return AccessToken("token-after-refresh", int(anyio.current_time()) + 10**9)


Call = Callable[[AsyncPipelineClient], Awaitable[Any]]


async def _cancel_then_recover(url: str, call: Call, **client_args: Any) -> AsyncPipelineClient:
    """Cancel `call` after CANCEL_AFTER s; check tasks, pool and the next call; close; check sockets."""
    sockets_before = open_sockets()
    tasks_before = live_tasks()
    client = AsyncPipelineClient(url, trust_env=False, **client_args)
    started = anyio.current_time()
    with anyio.move_on_after(CANCEL_AFTER) as scope:
        await call(client)
    assert scope.cancelled_caught, "the call ended before it could be cancelled"
    assert anyio.current_time() - started < CANCEL_AFTER + 0.5  # cancellation is prompt
    await anyio.sleep(0.05)  # let anything the call may have left behind run
    assert live_tasks() == tasks_before
    pool = client.pipeline.transport._pool  # type: ignore[attr-defined]
    # Nothing left busy: each pooled connection is idle, or closed (dropped at the pool's next rebalance).
    assert all(connection.is_idle() or connection.is_closed() for connection in pool.connections)
    with anyio.fail_after(5):
        response = await client.get("/ok")
    assert response.status_code == 200
    assert not any(connection.is_closed() for connection in pool.connections)
    await client.aclose()
    assert pool_connections(client) == 0
    assert live_tasks() == tasks_before
    assert wait_for_sockets(sockets_before) <= sockets_before
    return client


@pytest.mark.anyio
async def test_cancel_mid_sleep(url: str) -> None:
    """Cancelled while sleeping before a retry (10 s backoff)."""
    retry = RetryConfig(backoff_factor=10, jitter=0, timeout=60)
    await _cancel_then_recover(url, lambda client: client.get("/busy"), retry_policy=retry)


@pytest.mark.anyio
async def test_cancel_mid_attempt(url: str) -> None:
    """Cancelled while waiting for the response headers."""
    await _cancel_then_recover(url, lambda client: client.get("/hang"))


@pytest.mark.anyio
async def test_cancel_mid_hedged_attempt(url: str) -> None:
    """Cancelled while the first attempt and its hedge are both in flight."""
    await _cancel_then_recover(
        url, lambda client: client.get("/hang"), per_retry_policies=[HedgingPolicy(delay=0.05)]
    )


@pytest.mark.anyio
async def test_cancel_mid_stream(url: str) -> None:
    """Cancelled while reading a streamed body."""
    received: list[int] = []

    async def read(client: AsyncPipelineClient) -> None:
        async with client.stream("GET", "/stream") as response:
            async for chunk in response.aiter_bytes():
                received.append(len(chunk))

    await _cancel_then_recover(url, read)
    assert sum(received) > 0  # the body was flowing when the call was cancelled


@pytest.mark.anyio
async def test_cancel_mid_token_refresh(url: str) -> None:
    """Cancelled while the bearer policy fetches a token; the next call fetches one and is authorized."""
    credential = SlowCredential()
    policy = BearerTokenPolicy(credential, "scope/.default", enforce_https=False)
    await _cancel_then_recover(url, lambda client: client.get("/ok"), per_retry_policies=[policy])
    assert credential.calls == 2
