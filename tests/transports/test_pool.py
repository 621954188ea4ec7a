"""The default transport's connection pool (httpcore's, rebalanced in one pass): limits, reuse and expiry hold.

Seen from a loopback server that records each request's client port: which connection served what.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest

from pipework import AsyncPipelineClient, RetryConfig
from pipework.testing import serve
from pipework.transports import create_transport
from pipework.transports._pool import Pool

pytestmark = pytest.mark.anyio

ports: list[int] = []


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Records the client port; /slow answers after 50 ms."""
    if scope["type"] != "http":
        return
    ports.append(scope["client"][1])
    if scope["path"] == "/slow":
        await anyio.sleep(0.05)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture(scope="module")
def urls() -> Iterator[tuple[str, str]]:
    """Two loopback servers (two origins)."""
    with serve(app) as first, serve(app) as second:
        yield first, second


@pytest.fixture(autouse=True)
def _clear() -> None:
    ports.clear()


def _client(url: str, **limits: Any) -> AsyncPipelineClient:
    transport = create_transport(limits=httpx.Limits(**limits))
    return AsyncPipelineClient(url, transport=transport, retry_policy=RetryConfig(total=0, timeout=10))


def _pool(client: AsyncPipelineClient) -> Pool:
    pool = client.pipeline.transport._pool  # type: ignore[attr-defined]
    assert isinstance(pool, Pool)
    return pool


def test_only_the_plain_pool_is_replaced() -> None:
    """The default transport gets the one-pass pool; a proxied transport keeps httpcore's own."""
    assert type(create_transport()._pool) is Pool  # type: ignore[attr-defined]
    proxied = create_transport(proxy="http://127.0.0.1:9")
    assert not isinstance(proxied._pool, Pool)  # type: ignore[attr-defined]


async def test_sequential_requests_share_one_connection(urls: tuple[str, str]) -> None:
    """Ten calls in a row: one connection, reused each time."""
    async with _client(urls[0]) as client:
        for _ in range(10):
            assert (await client.get("/")).text == "ok"
        assert len(_pool(client).connections) == 1
    assert len(set(ports)) == 1


async def test_burst_keeps_only_max_keepalive_idle(urls: tuple[str, str]) -> None:
    """20 overlapping calls open many connections; once done, at most max_keepalive stay, and get reused."""
    async with _client(urls[0], max_connections=50, max_keepalive_connections=3) as client:
        async with anyio.create_task_group() as group:
            for _ in range(20):
                group.start_soon(client.get, "/slow")
        burst = set(ports)
        pool = _pool(client)
        assert len(burst) > 3
        assert len(pool.connections) <= 3
        assert all(connection.is_idle() for connection in pool.connections)
        ports.clear()
        for _ in range(3):
            await client.get("/")
    assert set(ports) <= burst  # served by the connections kept


async def test_max_connections_queues_the_rest(urls: tuple[str, str]) -> None:
    """max_connections=2 and 10 overlapping calls: every call answered, over two connections at most."""
    results: list[str] = []

    async def call(client: AsyncPipelineClient) -> None:
        results.append((await client.get("/slow")).text)

    async with _client(urls[0], max_connections=2) as client, anyio.create_task_group() as group:
        for _ in range(10):
            group.start_soon(call, client)
    assert results == ["ok"] * 10
    assert len(set(ports)) <= 2


async def test_expired_keepalive_is_not_reused(urls: tuple[str, str]) -> None:
    """A connection idle past keepalive_expiry is closed, not handed out: the next call opens a new one."""
    async with _client(urls[0], keepalive_expiry=0.05) as client:
        await client.get("/")
        await anyio.sleep(0.2)
        await client.get("/")
        assert len(_pool(client).connections) == 1
    assert len(set(ports)) == 2


async def test_idle_connection_of_another_origin_makes_room(urls: tuple[str, str]) -> None:
    """max_connections=1: a call to a second origin closes the idle connection to the first, and succeeds."""
    first, second = urls
    async with _client(first, max_connections=1) as client:
        assert (await client.get(f"{first}/")).text == "ok"
        assert (await client.get(f"{second}/")).text == "ok"
        assert (await client.get(f"{first}/")).text == "ok"
        assert len(_pool(client).connections) == 1
    assert len(set(ports)) == 3  # the first origin's connection was closed to make room, then reopened
