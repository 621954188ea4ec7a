"""HTTP/2 on the default transport (`http2=True`): negotiated by ALPN, calls multiplexed on one connection.

The server is hypercorn over TLS (a trustme certificate), in a thread with its own event loop, on a socket
bound to a free loopback port; it records each request's client port and HTTP version.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
import trustme
from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config

from pipework import AsyncPipelineClient, RetryConfig
from pipework.transports import create_transport

pytestmark = pytest.mark.anyio

seen: list[tuple[int, str]] = []  # (client port, http version) per request


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers "ok"; /slow after 50 ms (so that concurrent calls overlap)."""
    if scope["type"] != "http":
        return
    seen.append((scope["client"][1], scope["http_version"]))
    if scope["path"] == "/slow":
        await asyncio.sleep(0.05)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture(scope="module")
def h2_url(ca: trustme.CA) -> Iterator[str]:
    """hypercorn speaking h2 (and http/1.1) over TLS on a free loopback port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    descriptor = listener.detach()  # hypercorn owns (and closes) the listening socket from here
    started = threading.Event()
    control: dict[str, Any] = {}
    with ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.tempfile() as pem:
        config = Config()
        config.bind = [f"fd://{descriptor}"]
        config.certfile = config.keyfile = pem
        config.alpn_protocols = ["h2", "http/1.1"]
        config.loglevel = "WARNING"

        async def run() -> None:
            control["loop"], control["stop"] = asyncio.get_running_loop(), asyncio.Event()
            started.set()
            await hypercorn_serve(app, config, shutdown_trigger=control["stop"].wait)  # type: ignore[arg-type]

        thread = threading.Thread(target=asyncio.run, args=(run(),), daemon=True)
        thread.start()
        started.wait(10)
        try:
            yield f"https://127.0.0.1:{port}"
        finally:
            control["loop"].call_soon_threadsafe(control["stop"].set)
            thread.join(10)


@pytest.fixture(autouse=True)
def _clear() -> None:
    seen.clear()


async def test_concurrent_calls_share_one_http2_connection(h2_url: str, trusting: ssl.SSLContext) -> None:
    """Ten overlapping calls go out as streams of one HTTP/2 connection, and later calls reuse it."""
    transport = create_transport(http2=True, verify=trusting)
    results: list[tuple[str, str]] = []

    async def call(client: AsyncPipelineClient) -> None:
        response = await client.get("/slow")
        results.append((response.http_version, response.text))

    async with AsyncPipelineClient(
        h2_url, transport=transport, retry_policy=RetryConfig(total=0, timeout=10)
    ) as client:
        await client.get("/")  # the connection (one, negotiated as h2) exists before the burst
        async with anyio.create_task_group() as group:
            for _ in range(10):
                group.start_soon(call, client)
        await client.get("/")
        pool = client.pipeline.transport._pool  # type: ignore[attr-defined]
        assert len(pool.connections) == 1
    assert results == [("HTTP/2", "ok")] * 10
    assert {version for _, version in seen} == {"2"}
    assert len({port for port, _ in seen}) == 1
