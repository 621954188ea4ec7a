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


def _client(url: str, **retry: float) -> AsyncPipelineClient:
    config = RetryConfig(**{"total": 3, "backoff_factor": 0.01, "timeout": DEADLINE, **retry})
    return AsyncPipelineClient(url, retry_policy=config, timeout=httpx.Timeout(5.0), trust_env=False)


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
async def test_endless_redirects(clock: VirtualClock) -> None:
    """A server redirecting to a new URL forever: TooManyRedirectsError after max_redirects hops."""

    def answer(head: bytes, n: int) -> bytes:
        return b"HTTP/1.1 302 Found\r\nLocation: /hop/%d\r\nContent-Length: 0\r\n\r\n" % n

    with raw_server(_serve_each(answer)) as url:
        async with _client(url) as client:
            outcome, elapsed, peak = await _measure(lambda: client.get("/start"))
    assert isinstance(outcome, TooManyRedirectsError)
    assert "more than 30 redirects" in str(outcome)
    assert elapsed < DEADLINE + SLACK
    assert peak < MEMORY_CAP


@pytest.mark.anyio
async def test_redirect_loop(clock: VirtualClock) -> None:
    """A server redirecting to the same URL: a redirect loop, reported as such."""

    def answer(head: bytes, n: int) -> bytes:
        return b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n"

    with raw_server(_serve_each(answer)) as url:
        async with _client(url) as client:
            outcome, _elapsed, _ = await _measure(lambda: client.get("/loop"))
    assert isinstance(outcome, TooManyRedirectsError)
    assert "redirect loop" in str(outcome)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "retry_after",
    [b"Retry-After: 31536000", b"Retry-After: Wed, 21 Oct 2099 07:28:00 GMT", b"retry-after-ms: 31536000000"],
)
async def test_retry_after_of_a_year(clock: VirtualClock, retry_after: bytes) -> None:
    """A 503 asking for a year's wait is returned at once: no sleep, one attempt."""

    def answer(head: bytes, n: int) -> bytes:
        return b"HTTP/1.1 503 Service Unavailable\r\n" + retry_after + b"\r\nContent-Length: 0\r\n\r\n"

    with raw_server(_serve_each(answer)) as url:
        async with _client(url) as client:
            outcome, elapsed, _ = await _measure(lambda: client.get("/"))
    assert isinstance(outcome, httpx.Response)
    assert outcome.status_code == 503
    assert clock.sleeps == []
    assert len(history(outcome)) == 1
    assert elapsed < SLACK  # the year's wait was neither slept nor recorded


@pytest.mark.anyio
async def test_ten_gigabyte_content_length_short_body(clock: VirtualClock) -> None:
    """Content-Length: 10 GB, then 100 bytes and a close: a RemoteProtocolError naming the sizes, bounded memory."""

    def handler(conn: socket.socket) -> None:
        read_request_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10737418240\r\n\r\n" + b"x" * 100)
        conn.shutdown(socket.SHUT_WR)

    with raw_server(handler) as url:
        async with _client(url) as client:
            outcome, elapsed, peak = await _measure(lambda: client.get("/big"))
    assert isinstance(outcome, httpx.RemoteProtocolError)
    assert len(history(outcome)) == 4  # a GET: retried, every attempt cut short
    assert elapsed < DEADLINE + SLACK
    assert peak < MEMORY_CAP


@pytest.mark.anyio
async def test_ten_gigabyte_content_length_stalled(clock: VirtualClock) -> None:
    """Content-Length: 10 GB, 100 bytes, then silence: the call's deadline ends it."""

    def handler(conn: socket.socket) -> None:
        read_request_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10737418240\r\n\r\n" + b"x" * 100)
        conn.recv(1)  # until the client (or the test) closes the connection

    with raw_server(handler) as url:
        async with _client(url, timeout=0.5) as client:
            outcome, elapsed, peak = await _measure(lambda: client.get("/big"))
    assert isinstance(outcome, DeadlineExceededError)
    assert elapsed < 0.5 + SLACK
    assert peak < MEMORY_CAP


@pytest.mark.anyio
async def test_one_megabyte_of_headers(clock: VirtualClock) -> None:
    """A response head of 1 MB is refused (httpx's limit) with a RemoteProtocolError, in bounded memory."""

    def handler(conn: socket.socket) -> None:
        while read_request_head(conn):
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nX-Huge: " + b"a" * (1024 * 1024) + b"\r\nContent-Length: 0\r\n\r\n"
            )

    with raw_server(handler) as url:
        async with _client(url) as client:
            outcome, elapsed, peak = await _measure(lambda: client.get("/"))
    assert isinstance(outcome, httpx.RemoteProtocolError)
    assert elapsed < DEADLINE + SLACK
    assert peak < MEMORY_CAP


@pytest.mark.anyio
async def test_server_that_never_answers(clock: VirtualClock) -> None:
    """Accepts, reads the request, never answers: DeadlineExceededError (an httpx.TimeoutException) on time."""

    def handler(conn: socket.socket) -> None:
        read_request_head(conn)
        conn.recv(1)  # until the client (or the test) closes the connection

    with raw_server(handler) as url:
        async with _client(url, timeout=0.5) as client:
            outcome, elapsed, _ = await _measure(lambda: client.get("/"))
    assert isinstance(outcome, DeadlineExceededError)
    assert isinstance(outcome, httpx.TimeoutException)
    assert 0.45 < elapsed < 0.5 + SLACK  # not before the deadline, nor long after
