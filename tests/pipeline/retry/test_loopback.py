"""Black-box retries against real loopback servers: attempts counted at the server, waits recorded."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from pipework import AsyncPipelineClient, DeadlineExceededError, RetryConfig, history
from pipework.testing import VirtualClock

from ._servers import SLOW, ScriptedApp, closed_port_url, resetting_server

pytestmark = pytest.mark.anyio

Server = tuple[str, ScriptedApp]


async def test_503_three_times_then_200(server: Server, clock: VirtualClock) -> None:
    """503 x3 then 200: 4 attempts, waits 0.8/1.6/3.2 within the 20% jitter, the 200 returned."""
    url, app = server
    path = app.script(503, 503, 503, 200)
    async with AsyncPipelineClient(url) as client:
        response = await client.get(path)
    assert response.status_code == 200
    assert app.count(path) == 4
    assert len(clock.sleeps) == 3
    for slept, nominal in zip(clock.sleeps, [0.8, 1.6, 3.2], strict=True):
        assert nominal * 0.8 - 0.001 <= slept <= nominal * 1.2 + 0.001
    assert [a.status for a in history(response)] == [503, 503, 503, 200]
    assert [a.delay for a in history(response)] == [*clock.sleeps, 0.0]


async def test_500_forever_returns_the_last_500(server: Server, clock: VirtualClock) -> None:
    """A 500 that never clears: 4 attempts, then the last 500 is returned (not raised)."""
    url, app = server
    path = app.script(500)
    async with AsyncPipelineClient(url) as client:
        response = await client.get(path)
    assert response.status_code == 500
    assert response.text == "attempt 4"
    assert app.count(path) == 4
    assert len(clock.sleeps) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 501])
async def test_final_statuses_are_not_retried(server: Server, clock: VirtualClock, status: int) -> None:
    """Client errors (and 501) are answers, not transient failures: one attempt."""
    url, app = server
    path = app.script(status, 200)
    async with AsyncPipelineClient(url) as client:
        response = await client.get(path)
    assert response.status_code == status
    assert app.count(path) == 1
    assert clock.sleeps == []


async def test_400_with_retry_after_is_retried(server: Server, clock: VirtualClock) -> None:
    """A 400 that carries Retry-After says "try again later": retried after the wait asked."""
    url, app = server
    path = app.script((400, {"Retry-After": "1"}), 200)
    async with AsyncPipelineClient(url) as client:
        response = await client.get(path)
    assert response.status_code == 200
    assert app.count(path) == 2
    assert clock.sleeps == [1.0]


async def test_post_on_500_is_not_retried(server: Server, clock: VirtualClock) -> None:
    """A POST that got a 500 may have done its work: sent once."""
    url, app = server
    path = app.script(500, 200)
    async with AsyncPipelineClient(url) as client:
        response = await client.post(path, content=b"order")
    assert response.status_code == 500
    assert app.count(path) == 1


async def test_post_with_idempotency_key_is_retried(server: Server, clock: VirtualClock) -> None:
    """With an Idempotency-Key, a POST on 500 is retried, the key sent on every attempt."""
    url, app = server
    path = app.script(500, 500, 201)
    async with AsyncPipelineClient(url) as client:
        response = await client.post(path, content=b"order", headers={"Idempotency-Key": "k-1"})
    assert response.status_code == 201
    assert app.count(path) == 3
    assert [h["idempotency-key"] for h in app.headers[path.strip("/")]] == ["k-1"] * 3


async def test_post_on_503_with_retry_after_is_retried(server: Server, clock: VirtualClock) -> None:
    """A 503 with Retry-After means the server did nothing: even a POST is retried."""
    url, app = server
    path = app.script((503, {"Retry-After": "3"}), 201)
    async with AsyncPipelineClient(url) as client:
        response = await client.post(path, content=b"order")
    assert response.status_code == 201
    assert app.count(path) == 2
    assert clock.sleeps == [3.0]


async def test_post_on_connection_refused_is_retried(clock: VirtualClock) -> None:
    """Connection refused means never sent: a POST is retried, then the ConnectError raised with history."""
    async with AsyncPipelineClient() as client:
        with pytest.raises(httpx.ConnectError) as info:
            await client.post(closed_port_url() + "/orders", content=b"order")
    attempts = history(info.value)
    assert [a.outcome for a in attempts] == ["not_sent"] * 4
    assert [a.error for a in attempts] == ["ConnectError"] * 4
    assert len(clock.sleeps) == 3


@pytest.mark.parametrize(
    ("method", "attempts", "status"), [("GET", 2, 200), ("PUT", 2, 200), ("POST", 1, None)]
)
async def test_reset_after_send(clock: VirtualClock, method: str, attempts: int, status: int | None) -> None:
    """A connection reset after the request was sent: idempotent methods retried, POST raised at once."""
    with resetting_server(resets=1) as (url, received):
        async with AsyncPipelineClient() as client:
            if status is None:
                with pytest.raises(httpx.TransportError) as info:
                    await client.request(method, url + "/x", content=b"body")
                assert [a.outcome for a in history(info.value)] == ["unknown"]
            else:
                response = await client.request(method, url + "/x", content=b"body")
                assert response.status_code == status
                assert [a.outcome for a in history(response)] == ["unknown", "success"]
        assert len(received) == attempts


async def test_retry_after_seconds_is_waited(server: Server, clock: VirtualClock) -> None:
    """Retry-After: 2 waits exactly 2 s (not the backoff)."""
    url, app = server
    path = app.script((503, {"Retry-After": "2"}), 200)
    async with AsyncPipelineClient(url) as client:
        response = await client.get(path)
    assert response.status_code == 200
    assert clock.sleeps == [2.0]


async def test_retry_after_too_long_returns_at_once(server: Server, clock: VirtualClock) -> None:
    """Retry-After: 300 is beyond retry_after_max (60 s): the 503 is returned at once, nothing slept."""
    url, app = server
    path = app.script((503, {"Retry-After": "300"}), 200)
    async with AsyncPipelineClient(url) as client:
        response = await client.get(path)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "300"
    assert app.count(path) == 1
    assert clock.sleeps == []
    assert "retry_after_max" in (history(response)[-1].note or "")


async def test_retry_after_http_date(server: Server, clock: VirtualClock) -> None:
    """Retry-After as an HTTP-date 3 s ahead waits until then (to the second)."""
    url, app = server
    path = app.script(
        lambda: (503, {"Retry-After": email.utils.formatdate(time.time() + 3, usegmt=True)}), 200
    )
    async with AsyncPipelineClient(url) as client:
        response = await client.get(path)
    assert response.status_code == 200
    assert len(clock.sleeps) == 1
    assert 1.9 <= clock.sleeps[0] <= 3.0


@pytest.mark.parametrize(
    ("header", "value", "expected"), [("retry-after-ms", "250", 0.25), ("x-ms-retry-after-ms", "1500", 1.5)]
)
async def test_retry_after_ms_headers(
    server: Server, clock: VirtualClock, header: str, value: str, expected: float
) -> None:
    """The millisecond headers are honoured."""
    url, app = server
    path = app.script((429, {header: value}), 200)
    async with AsyncPipelineClient(url) as client:
        response = await client.get(path)
    assert response.status_code == 200
    assert clock.sleeps == [expected]


async def test_deadline_bounds_the_whole_call(server: Server, clock: VirtualClock) -> None:
    """timeout=2 against a server that always fails ends by its deadline (virtual), never sleeping past it.

    The call is timed alone (not the client's set-up and close) and allowed the deadline contract's
    100 ms of scheduling slack: real loopback time adds to the virtual sleeps on a busy machine.
    """
    url, app = server
    path = app.script(503)
    async with AsyncPipelineClient(url, retry_policy=RetryConfig(timeout=2)) as client:
        start = clock.now()
        response = await client.get(path)
        elapsed = clock.now() - start
    assert response.status_code == 503
    assert sum(clock.sleeps) <= 2.0
    assert elapsed <= 2.0 + 0.1
    assert 2 <= app.count(path) <= 3
    assert "deadline" in (history(response)[-1].note or "")


async def test_retry_total_zero_makes_one_attempt(server: Server, clock: VirtualClock) -> None:
    """retry_total=0: one attempt, the 503 returned."""
    url, app = server
    path = app.script(503, 200)
    async with AsyncPipelineClient(url, retry_policy=RetryConfig.disabled()) as client:
        response = await client.get(path)
    assert response.status_code == 503
    assert app.count(path) == 1


async def test_slow_attempt_is_cut_at_the_deadline(server: Server, clock: VirtualClock) -> None:
    """A server that never answers: the attempt is cut at the deadline, DeadlineExceededError raised."""
    url, app = server
    path = app.script(SLOW)
    started = time.monotonic()
    async with AsyncPipelineClient(url, retry_policy=RetryConfig(timeout=0.6, backoff_factor=0.1)) as client:
        with pytest.raises(httpx.TimeoutException) as info:
            await client.get(path)
    took = time.monotonic() - started
    assert isinstance(info.value, DeadlineExceededError)
    assert 0.5 <= took < 3.0  # cut near 0.6 s, long before the server's 5 s
    [attempt] = history(info.value)
    assert attempt.outcome == "fatal"
    assert attempt.error in {"DeadlineExceededError", "ReadTimeout"}
    assert app.count(path) == 1
