"""Hostile servers (raw sockets on 127.0.0.1): every call ends within its deadline, with a clear error, in bounded memory."""

from __future__ import annotations

import socket
import time
import tracemalloc
from collections.abc import Awaitable, Callable

import httpx
import pytest

from pipework import AsyncPipelineClient, DeadlineExceededError, RetryConfig, TooManyRedirectsError, history
from pipework.testing import VirtualClock

from ._support import Handler, raw_server, read_request_head

MakeTransport = Callable[
    ..., httpx.AsyncBaseTransport
]  # the `make_transport` fixture: each transport in turn

DEADLINE = 1.5
MEMORY_CAP = 16 * 1024 * 1024  # bytes allocated at the peak of one hostile call
# Slack past a deadline before a test fails: generous, as a loaded 2-core CI runner can schedule the loop late;
# still far below the 5 s per-attempt timeout and the server's endless stall that the deadline has to cut.
SLACK = 1.0


def _serve_each(answer: Callable[[bytes, int], bytes]) -> Handler:
    """A handler answering every request on a connection with `answer(request_head, n)` (n counts requests)."""
    count = 0

    def handler(conn: socket.socket) -> None:
        nonlocal count
        while head := read_request_head(conn):
            count += 1
            conn.sendall(answer(head, count))

    return handler


def _client(url: str, make_transport: MakeTransport, **retry: float) -> AsyncPipelineClient:
    config = RetryConfig(**{"total": 3, "backoff_factor": 0.01, "timeout": DEADLINE, **retry})
    transport = make_transport(trust_env=False)
    return AsyncPipelineClient(url, retry_policy=config, timeout=httpx.Timeout(5.0), transport=transport)


async def _measure(
    call: Callable[[], Awaitable[httpx.Response]],
) -> tuple[httpx.Response | Exception, float, int]:
    """Run `call`; return its outcome, seconds taken and the peak of traced memory."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        outcome: httpx.Response | Exception = await call()
    except Exception as exc:
        outcome = exc
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return outcome, elapsed, peak


@pytest.mark.anyio
async def test_endless_redirects(clock: VirtualClock, make_transport: MakeTransport) -> None:
    """A server redirecting to a new URL forever: TooManyRedirectsError after max_redirects hops."""

    def answer(head: bytes, n: int) -> bytes:
        return b"HTTP/1.1 302 Found\r\nLocation: /hop/%d\r\nContent-Length: 0\r\n\r\n" % n

    with raw_server(_serve_each(answer)) as url:
        async with _client(url, make_transport) as client:
            outcome, elapsed, peak = await _measure(lambda: client.get("/start"))
    assert isinstance(outcome, TooManyRedirectsError)
    assert "more than 30 redirects" in str(outcome)
    assert elapsed < DEADLINE + SLACK
    assert peak < MEMORY_CAP


@pytest.mark.anyio
async def test_redirect_loop(clock: VirtualClock, make_transport: MakeTransport) -> None:
    """A server redirecting to the same URL: a redirect loop, reported as such."""

    def answer(head: bytes, n: int) -> bytes:
        return b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n"

    with raw_server(_serve_each(answer)) as url:
        async with _client(url, make_transport) as client:
            outcome, _elapsed, _ = await _measure(lambda: client.get("/loop"))
    assert isinstance(outcome, TooManyRedirectsError)
    assert "redirect loop" in str(outcome)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "retry_after",
    [b"Retry-After: 31536000", b"Retry-After: Wed, 21 Oct 2099 07:28:00 GMT", b"retry-after-ms: 31536000000"],
)
async def test_retry_after_of_a_year(
    clock: VirtualClock, retry_after: bytes, make_transport: MakeTransport
) -> None:
    """A 503 asking for a year's wait is returned at once: no sleep, one attempt."""

    def answer(head: bytes, n: int) -> bytes:
        return b"HTTP/1.1 503 Service Unavailable\r\n" + retry_after + b"\r\nContent-Length: 0\r\n\r\n"

    with raw_server(_serve_each(answer)) as url:
        async with _client(url, make_transport) as client:
            outcome, elapsed, _ = await _measure(lambda: client.get("/"))
    assert isinstance(outcome, httpx.Response)
    assert outcome.status_code == 503
    assert clock.sleeps == []
    assert len(history(outcome)) == 1
    assert elapsed < SLACK  # the year's wait was neither slept nor recorded


@pytest.mark.anyio
async def test_ten_gigabyte_content_length_short_body(
    clock: VirtualClock, make_transport: MakeTransport
) -> None:
    """Content-Length: 10 GB, then 100 bytes and a close: a RemoteProtocolError naming the sizes, bounded memory."""

    def handler(conn: socket.socket) -> None:
        read_request_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10737418240\r\n\r\n" + b"x" * 100)
        conn.shutdown(socket.SHUT_WR)

    with raw_server(handler) as url:
        async with _client(url, make_transport) as client:
            outcome, elapsed, peak = await _measure(lambda: client.get("/big"))
    assert isinstance(outcome, httpx.RemoteProtocolError)
    assert len(history(outcome)) == 4  # a GET: retried, every attempt cut short
    assert elapsed < DEADLINE + SLACK
    assert peak < MEMORY_CAP


@pytest.mark.anyio
async def test_ten_gigabyte_content_length_stalled(
    clock: VirtualClock, make_transport: MakeTransport
) -> None:
    """Content-Length: 10 GB, 100 bytes, then silence: the call's deadline ends it."""

    def handler(conn: socket.socket) -> None:
        read_request_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10737418240\r\n\r\n" + b"x" * 100)
        conn.recv(1)  # until the client (or the test) closes the connection

    with raw_server(handler) as url:
        async with _client(url, make_transport, timeout=0.5) as client:
            outcome, elapsed, peak = await _measure(lambda: client.get("/big"))
    assert isinstance(outcome, DeadlineExceededError)
    assert elapsed < 0.5 + SLACK
    assert peak < MEMORY_CAP


@pytest.mark.anyio
async def test_one_megabyte_of_headers(clock: VirtualClock, make_transport: MakeTransport) -> None:
    """A response head of 1 MB is refused (httpx's limit) with a RemoteProtocolError, in bounded memory."""

    def handler(conn: socket.socket) -> None:
        while read_request_head(conn):
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nX-Huge: " + b"a" * (1024 * 1024) + b"\r\nContent-Length: 0\r\n\r\n"
            )

    with raw_server(handler) as url:
        async with _client(url, make_transport) as client:
            outcome, elapsed, peak = await _measure(lambda: client.get("/"))
    assert isinstance(outcome, httpx.RemoteProtocolError)
    assert elapsed < DEADLINE + SLACK
    assert peak < MEMORY_CAP


@pytest.mark.anyio
async def test_server_that_never_answers(clock: VirtualClock, make_transport: MakeTransport) -> None:
    """Accepts, reads the request, never answers: DeadlineExceededError (an httpx.TimeoutException) on time."""

    def handler(conn: socket.socket) -> None:
        read_request_head(conn)
        conn.recv(1)  # until the client (or the test) closes the connection

    with raw_server(handler) as url:
        async with _client(url, make_transport, timeout=0.5) as client:
            outcome, elapsed, _ = await _measure(lambda: client.get("/"))
    assert isinstance(outcome, DeadlineExceededError)
    assert isinstance(outcome, httpx.TimeoutException)
    assert 0.45 < elapsed < 0.5 + SLACK  # not before the deadline, nor long after


def _drip(head: bytes) -> Handler:
    """Sends `head` one byte every 20 ms, then body bytes at the same pace, for ever: no read ever times out."""

    def handler(conn: socket.socket) -> None:
        read_request_head(conn)
        for index in range(10_000):
            conn.sendall(head[index : index + 1] if index < len(head) else b"x")
            time.sleep(0.02)

    return handler


@pytest.mark.anyio
async def test_body_dripping_past_the_deadline(clock: VirtualClock, make_transport: MakeTransport) -> None:
    """A body sent a byte at a time, each well within the read timeout: the call's deadline still ends it."""
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"
    with raw_server(_drip(head)) as url:
        async with _client(url, make_transport, timeout=0.5) as client:
            outcome, elapsed, _ = await _measure(lambda: client.get("/"))
    assert isinstance(outcome, DeadlineExceededError)
    assert 0.45 < elapsed < 0.5 + SLACK


@pytest.mark.anyio
async def test_head_dripping_past_the_deadline(clock: VirtualClock, make_transport: MakeTransport) -> None:
    """A streamed call whose response head arrives a byte at a time: DeadlineExceededError at the deadline."""
    head = b"HTTP/1.1 200 OK\r\nX-Padding: " + b"p" * 4000 + b"\r\nContent-Length: 1\r\n\r\n"

    async def call() -> httpx.Response:
        async with client.stream("GET", "/") as response:
            return response

    with raw_server(_drip(head)) as url:
        async with _client(url, make_transport, timeout=0.5) as client:
            outcome, elapsed, _ = await _measure(call)
    assert isinstance(outcome, DeadlineExceededError)
    assert 0.45 < elapsed < 0.5 + SLACK
