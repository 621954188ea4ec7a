"""HTTP/1.1 on the wire, on both transports: what AiohttpTransport's direct path must get right as httpcore does."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import httpx
import pytest

from pipework import AsyncPipelineClient, DeadlineExceededError, RetryConfig
from pipework.pipeline import CustomHookPolicy, HeadersPolicy, Pipeline
from pipework.pipeline._deadline import enforces_deadline
from pipework.testing import serve
from tests._asgi import read_body
from tests.reliability._support import raw_server, read_request_head

pytestmark = pytest.mark.anyio

MakeTransport = Callable[..., httpx.AsyncBaseTransport]
NO_RETRY = RetryConfig.disabled()
seen: list[tuple[str, str, Any]] = []  # (method, path?query, client port) per request, in order


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Records each request; /status/N answers N, /size echoes the body's length, /big sends 1 MiB."""
    if scope["type"] != "http":
        return
    path = scope["path"]
    query = scope["query_string"].decode()
    seen.append((scope["method"], path + ("?" + query if query else ""), scope["client"][1]))
    body = await read_body(receive)
    status = int(path.rsplit("/", 1)[1]) if path.startswith("/status/") else 200
    content = b"" if status in (204, 304) else b"ok:%d" % len(body)
    if path == "/big":
        content = b"b" * (1024 * 1024)
    headers = [] if status in (204, 304) else [(b"content-length", str(len(content)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """One loopback server for the module."""
    with serve(app) as url:
        yield url


@pytest.fixture(autouse=True)
def _clear_seen() -> None:
    seen.clear()


def _client(url: str, make_transport: MakeTransport, **kwargs: Any) -> AsyncPipelineClient:
    return AsyncPipelineClient(url, transport=make_transport(**kwargs), retry_policy=NO_RETRY)


async def test_head_204_304_then_reuse(base_url: str, make_transport: MakeTransport) -> None:
    """HEAD, 204 and 304 have no body; the connection is used again for the next request."""
    async with _client(base_url, make_transport) as client:
        head = await client.head("/status/200")
        no_content = await client.get("/status/204")
        not_modified = await client.get("/status/304")
        after = await client.get("/status/200")
    assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", "4")
    assert (no_content.status_code, no_content.content) == (204, b"")
    assert (not_modified.status_code, not_modified.content) == (304, b"")
    assert after.content == b"ok:0"
    assert len({port for _, _, port in seen}) == 1  # one keep-alive connection for all four


async def test_query_and_encoded_path_reach_the_server(base_url: str, make_transport: MakeTransport) -> None:
    """The request target is sent as httpx encoded it: path, percent-escapes and query string."""
    async with _client(base_url, make_transport) as client:
        await client.get("/a%20b/c", params={"q": "x y", "n": "1"})
    assert seen == [("GET", "/a b/c?q=x+y&n=1", seen[0][2])]


@pytest.mark.parametrize("size", [0, 512 * 1024, 3 * 1024 * 1024])
async def test_bodies_of_every_size(base_url: str, make_transport: MakeTransport, size: int) -> None:
    """Bodies are sent whole (the largest through aiohttp's session path) and big responses read whole."""
    async with _client(base_url, make_transport) as client:
        sent = await client.post("/size", content=b"z" * size)
        big = await client.get("/big")
    assert sent.content == b"ok:%d" % size
    assert big.content == b"b" * (1024 * 1024)


@pytest.mark.parametrize(
    ("name", "value"), [("X-Evil", "a\r\nInjected: 1"), ("X-Evil", "a\nb"), ("Bad Name", "v")]
)
async def test_header_injection_is_refused(
    base_url: str, make_transport: MakeTransport, name: str, value: str
) -> None:
    """A header that would split the request is refused with LocalProtocolError; nothing reaches the server."""
    async with _client(base_url, make_transport) as client:
        with pytest.raises(httpx.LocalProtocolError) as caught:
            await client.get("/status/200", headers={name: value})
        ours = not isinstance(client.pipeline.transport, httpx.AsyncHTTPTransport)
    assert seen == []
    if ours:  # (h11 quotes the bad value in its message; AiohttpTransport names the header only)
        assert "Injected" not in str(caught.value)


async def test_early_close_of_a_stream_keeps_the_pool_sound(
    base_url: str, make_transport: MakeTransport
) -> None:
    """A streamed body closed half-read drops that connection; the next requests still succeed."""
    async with _client(base_url, make_transport) as client:
        async with client.stream("GET", "/big") as response:
            async for _ in response.aiter_raw():
                break
        results = [(await client.get("/status/200")).content for _ in range(3)]
    assert results == [b"ok:0"] * 3


async def test_pool_of_one_serves_concurrent_calls(base_url: str, make_transport: MakeTransport) -> None:
    """With max_connections=1, eight concurrent calls wait their turn and all succeed on one connection."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    results: list[bytes] = []
    async with _client(base_url, make_transport, limits=limits) as client:

        async def call() -> None:
            results.append((await client.post("/size", content=b"abc")).content)

        async with anyio.create_task_group() as group:
            for _ in range(8):
                group.start_soon(call)
    assert results == [b"ok:3"] * 8
    assert len({port for _, _, port in seen}) == 1


def _interim_then_final(conn: socket.socket) -> None:
    while read_request_head(conn):
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal")


def _close_after_each(conn: socket.socket) -> None:
    read_request_head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
    conn.shutdown(socket.SHUT_WR)


@pytest.mark.parametrize("handler", [_interim_then_final, _close_after_each])
async def test_interim_responses_and_closing_servers(
    make_transport: MakeTransport, handler: Callable[[socket.socket], None]
) -> None:
    """A 100 Continue before the answer is skipped; a server closing after each answer gets a new connection."""
    with raw_server(handler) as url:
        async with _client(url, make_transport) as client:
            bodies = [(await client.get("/")).content for _ in range(3)]
    assert bodies == [b"final"] * 3 if handler is _interim_then_final else [b"ok"] * 3


async def test_hanging_async_hook_ends_at_the_deadline(base_url: str, make_transport: MakeTransport) -> None:
    """An async raw_request_hook that never returns is cancelled at the call's deadline, on every transport."""

    async def hang(request: httpx.Request) -> None:
        await anyio.sleep(30)

    retry = RetryConfig(total=0, timeout=0.3)
    async with AsyncPipelineClient(
        base_url, transport=make_transport(), retry_policy=retry, raw_request_hook=hang
    ) as client:
        with anyio.fail_after(5), pytest.raises(DeadlineExceededError):
            await client.get("/status/200")
    assert seen == []


async def test_policy_that_promises_nothing_keeps_the_scope(
    base_url: str, make_transport: MakeTransport
) -> None:
    """A plain async policy below the retry policy is still bounded by the deadline (the retry policy's scope)."""

    async def slow(request: httpx.Request, call_next: Any, /) -> httpx.Response:
        await anyio.sleep(30)
        return await call_next(request)

    async with AsyncPipelineClient(
        base_url,
        transport=make_transport(),
        retry_policy=RetryConfig(total=0, timeout=0.3),
        per_retry_policies=[slow],
    ) as client:
        with anyio.fail_after(5), pytest.raises(DeadlineExceededError):
            await client.get("/status/200")


def test_pipeline_marks_only_chains_that_keep_the_deadline() -> None:
    """The retry policy skips its scope only when every link below it promises to keep the deadline."""

    async def plain(request: httpx.Request, call_next: Any, /) -> httpx.Response:
        return await call_next(request)

    class Keeping(httpx.AsyncBaseTransport):
        enforces_deadline = True

    assert enforces_deadline(Pipeline(Keeping(), [HeadersPolicy(), CustomHookPolicy()])._entry)
    assert not enforces_deadline(Pipeline(Keeping(), [HeadersPolicy(), plain])._entry)
    assert not enforces_deadline(Pipeline(httpx.AsyncHTTPTransport(), [HeadersPolicy()])._entry)
