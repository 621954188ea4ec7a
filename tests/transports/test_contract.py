"""The transport contract: the default httpx transport and AiohttpTransport behave the same under the chain."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import httpx
import pytest

from pipework import AsyncPipelineClient, ConfigurationError, RetryConfig
from pipework.testing import serve
from pipework.transports import AiohttpTransport
from tests._asgi import read_body

NO_RETRY = RetryConfig.disabled()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Routes: /echo, /stream, /slow, /status/N, /truncated, /headers."""
    if scope["type"] != "http":
        return
    path: str = scope["path"]
    body = await read_body(receive)
    headers = [(b"content-type", b"text/plain")]
    if path == "/slow":
        await anyio.sleep(2)
    if path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for index in range(5):
            await send({"type": "http.response.body", "body": b"chunk%d;" % index, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    if path == "/truncated":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]})
        await send({"type": "http.response.body", "body": b"x" * 10, "more_body": True})
        raise RuntimeError("cut the body short")
    status = int(path.rsplit("/", 1)[1]) if path.startswith("/status/") else 200
    if path == "/headers":
        body = repr(sorted((k.decode(), v.decode()) for k, v in scope["headers"])).encode()
    await send(
        {"type": "http.response.start", "status": status, "headers": [*headers, (b"x-route", path.encode())]}
    )
    await send({"type": "http.response.body", "body": b"echo:" + body})


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """One loopback server for the module."""
    with serve(app) as url:
        yield url


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.anyio
async def test_post_body_and_status(
    base_url: str, make_transport: Callable[[], httpx.AsyncBaseTransport]
) -> None:
    """A POST body reaches the server; status, reason, headers and body come back."""
    async with AsyncPipelineClient(base_url, transport=make_transport(), retry_policy=NO_RETRY) as client:
        response = await client.post("/status/201", content=b"hello")
    assert response.status_code == 201
    assert response.reason_phrase == "Created"
    assert response.headers["x-route"] == "/status/201"
    assert response.text == "echo:hello"
    assert response.http_version == "HTTP/1.1"


@pytest.mark.anyio
async def test_streamed_upload(base_url: str, make_transport: Callable[[], httpx.AsyncBaseTransport]) -> None:
    """An async-iterator body is sent whole."""

    async def parts() -> Any:
        for part in (b"a", b"b", b"c"):
            yield part

    async with AsyncPipelineClient(base_url, transport=make_transport(), retry_policy=NO_RETRY) as client:
        response = await client.post("/echo", content=parts())
    assert response.text == "echo:abc"


@pytest.mark.anyio
async def test_streamed_download(
    base_url: str, make_transport: Callable[[], httpx.AsyncBaseTransport]
) -> None:
    """stream() yields the body as it arrives, and the whole body is intact."""
    async with (
        AsyncPipelineClient(base_url, transport=make_transport(), retry_policy=NO_RETRY) as client,
        client.stream("GET", "/stream") as response,
    ):
        assert not response.is_stream_consumed
        body = b"".join([chunk async for chunk in response.aiter_bytes()])
    assert body == b"chunk0;chunk1;chunk2;chunk3;chunk4;"


@pytest.mark.anyio
async def test_request_headers_on_the_wire(
    base_url: str, make_transport: Callable[[], httpx.AsyncBaseTransport]
) -> None:
    """Only the chain's headers are sent: no transport-added User-Agent or Accept-Encoding."""
    async with AsyncPipelineClient(base_url, transport=make_transport(), retry_policy=NO_RETRY) as client:
        response = await client.get("/headers", headers={"X-Thing": "1"})
    seen = dict(eval(response.text.removeprefix("echo:")))
    assert seen["x-thing"] == "1"
    assert seen["user-agent"].startswith("pipework/")
    assert "accept-encoding" not in seen


@pytest.mark.anyio
async def test_connection_refused_is_connect_error(
    make_transport: Callable[[], httpx.AsyncBaseTransport],
) -> None:
    """A refused connection is httpx.ConnectError (never sent: safe to retry for any method)."""
    url = f"http://127.0.0.1:{closed_port()}"
    async with AsyncPipelineClient(url, transport=make_transport(), retry_policy=NO_RETRY) as client:
        with pytest.raises(httpx.ConnectError):
            await client.post("/", content=b"x")


@pytest.mark.anyio
async def test_read_timeout(base_url: str, make_transport: Callable[[], httpx.AsyncBaseTransport]) -> None:
    """A server slower than the read timeout gives httpx.ReadTimeout."""
    async with AsyncPipelineClient(base_url, transport=make_transport(), retry_policy=NO_RETRY) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/slow", timeout=httpx.Timeout(5.0, read=0.2))


@pytest.mark.anyio
async def test_truncated_body(base_url: str, make_transport: Callable[[], httpx.AsyncBaseTransport]) -> None:
    """A body shorter than its Content-Length is an httpx.RemoteProtocolError (it may have been processed)."""
    async with AsyncPipelineClient(base_url, transport=make_transport(), retry_policy=NO_RETRY) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/truncated")


@pytest.mark.anyio
async def test_aiohttp_refuses_trio(anyio_backend: str, base_url: str) -> None:
    """On trio, AiohttpTransport says to use the default transport instead of failing obscurely."""
    if anyio_backend != "trio":
        pytest.skip("the trio half of the aiohttp contract")
    async with AsyncPipelineClient(base_url, transport=AiohttpTransport(), retry_policy=NO_RETRY) as client:
        with pytest.raises(ConfigurationError, match="asyncio only"):
            await client.get("/echo")
