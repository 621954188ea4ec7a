"""PipelineClient against a real loopback server: streaming, many threads, nothing leaked after close."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

import pipework
from pipework import PipelineClient
from pipework.testing import VirtualClock, serve

from ._app import STREAM_LINES, SyncTestApp


@pytest.fixture(scope="module")
def app() -> SyncTestApp:
    """The app, shared by the module's server."""
    return SyncTestApp()


@pytest.fixture(scope="module")
def base_url(app: SyncTestApp) -> Iterator[str]:
    """A uvicorn server on a free 127.0.0.1 port for this module."""
    with serve(app) as url:
        yield url


def _sockets() -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:
            continue
    return count


def _threads() -> int:
    """Live threads, less trio's idle worker cache (an earlier trio test's; they exit 10 s after last use)."""
    return sum(not thread.name.startswith("Trio thread") for thread in threading.enumerate())


def _settle(expected: int, measure: object, timeout: float = 3.0) -> int:
    """Poll `measure()` until it is at most `expected` (servers close their side a moment later)."""
    assert callable(measure)
    deadline = time.monotonic() + timeout
    value: int = measure()
    while value > expected and time.monotonic() < deadline:
        time.sleep(0.02)
        value = measure()
    return value


def test_retries_at_a_real_server(base_url: str, app: SyncTestApp, clock: VirtualClock) -> None:
    """`/flaky` fails twice with 503: the server sees three requests and the caller gets 200."""
    with PipelineClient(base_url) as client:
        response = client.get("/flaky/retry")
    assert response.status_code == 200
    assert app.counts["/flaky/retry"] == 3
    assert len(clock.sleeps) == 2


def test_stream_iter_lines_pulls_through_the_loop(base_url: str) -> None:
    """iter_lines yields the streamed body line by line; the connection is reused afterwards."""
    with PipelineClient(base_url) as client:
        with client.stream("GET", "/stream") as response:
            assert not response.is_stream_consumed
            lines = list(response.iter_lines())
        assert lines == [line.decode() for line in STREAM_LINES]
        assert response.is_closed
        assert client.get("/ok").status_code == 200


def test_stream_read_iter_bytes_and_iter_raw(base_url: str) -> None:
    """read(), iter_bytes() and iter_raw() each give the whole body."""
    expected = b"".join(line + b"\n" for line in STREAM_LINES)
    with PipelineClient(base_url) as client:
        with client.stream("GET", "/stream") as response:
            assert response.read() == expected
        with client.stream("GET", "/stream") as response:
            assert b"".join(response.iter_bytes()) == expected
        with client.stream("GET", "/stream") as response:
            assert b"".join(response.iter_raw()) == expected
        with client.stream("GET", "/stream") as response:
            assert "".join(response.iter_text()) == expected.decode()


def test_stream_left_early_releases_the_connection(base_url: str) -> None:
    """Leaving the block after one chunk closes the stream; the pool still serves requests."""
    limits = httpx.Limits(max_connections=1)
    with PipelineClient(base_url, limits=limits, timeout=5) as client:
        for _ in range(3):
            with client.stream("GET", "/stream") as response:
                next(response.iter_bytes())
        assert client.get("/ok").status_code == 200


def test_send_stream_true_needs_close(base_url: str) -> None:
    """send(stream=True) returns an unread response whose close() returns the connection."""
    with PipelineClient(base_url, limits=httpx.Limits(max_connections=1), timeout=5) as client:
        response = client.send(client.build_request("GET", "/stream"), stream=True)
        first = next(response.iter_lines())
        response.close()
        assert first == "line 0"
        assert client.get("/ok").status_code == 200


def test_status_error_from_a_real_server(base_url: str) -> None:
    """A 404 is returned (not retried) and raise_for_status maps it."""
    with PipelineClient(base_url) as client:
        response = client.get("/status/404")
    assert pipework.history(response)[-1].status == 404
    assert len(pipework.history(response)) == 1
    with pytest.raises(pipework.ResourceNotFoundError):
        pipework.raise_for_status(response)


def test_sixteen_threads_share_one_client_and_leave_nothing_behind(base_url: str, app: SyncTestApp) -> None:
    """16 threads x 200 GETs through one client all succeed; after close, no extra thread or socket."""
    threads_before = _threads()
    sockets_before = _settle(0, _sockets, timeout=0.5)  # earlier tests' server-side sockets wind down
    served_before = app.counts["/ok"]

    with PipelineClient(base_url) as client:

        def worker(n: int) -> int:
            ok = 0
            for i in range(200):
                response = client.get("/ok", params={"t": n, "i": i})
                ok += response.status_code == 200 and response.json()["path"] == "/ok"
            return ok

        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(worker, range(16)))
        assert _threads() == threads_before + 1  # the client's loop thread
    assert results == [200] * 16
    assert app.counts["/ok"] - served_before == 3200
    assert _threads() == threads_before
    assert _settle(sockets_before, _sockets) <= sockets_before
