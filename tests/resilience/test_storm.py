"""Retry storms against a loopback server failing 100%: plain retries, the budget, the breaker, recovery."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest

from pipework import (
    AsyncPipelineClient,
    CircuitBreakerPolicy,
    CircuitOpenError,
    CircuitState,
    RetryBudget,
    RetryConfig,
    RetryPolicy,
)
from pipework.testing import VirtualClock, serve

from ._apps import FlakyApp

FAST = RetryConfig(total=3, backoff_factor=0.001, jitter=0)
"""Three retries, tiny backoffs: virtual time barely moves, so the windows see every call."""


@pytest.fixture
def flaky() -> Iterator[tuple[FlakyApp, str]]:
    """A loopback server answering 503 until told otherwise."""
    app = FlakyApp()
    with serve(app) as base_url:
        yield app, base_url


async def _calls(client: AsyncPipelineClient, count: int, workers: int = 8) -> list[int | str]:
    results: list[int | str] = []

    async def worker(share: int) -> None:
        for _ in range(share):
            try:
                results.append((await client.get("/")).status_code)
            except CircuitOpenError:
                results.append("open")

    async with anyio.create_task_group() as group:
        for index in range(workers):
            group.start_soon(worker, count // workers + (index < count % workers))
    return results


@pytest.mark.anyio
async def test_plain_retries_amplify_four_times(flaky: tuple[FlakyApp, str], frozen: VirtualClock) -> None:
    """Without a budget every call makes 1 + 3 requests: amplification 4.0."""
    app, base_url = flaky
    async with AsyncPipelineClient(base_url, policies=[RetryPolicy(FAST)]) as client:
        results = await _calls(client, 50)
    assert results == [503] * 50
    assert app.hits / 50 == pytest.approx(4.0)


@pytest.mark.anyio
async def test_budget_caps_amplification(flaky: tuple[FlakyApp, str], frozen: VirtualClock) -> None:
    """With a 20% budget (floor 1 retry/s over 10 s) 400 calls make at most 1.25 requests each."""
    app, base_url = flaky
    budget = RetryBudget(ratio=0.2, window=10, min_retries_per_second=1)
    async with AsyncPipelineClient(base_url, policies=[RetryPolicy(FAST, budget=budget)]) as client:
        results = await _calls(client, 400)
    assert results == [503] * 400
    amplification = app.hits / 400
    assert 1.15 <= amplification <= 1.25


@pytest.mark.anyio
async def test_breaker_stops_the_storm_and_recovers(
    flaky: tuple[FlakyApp, str], frozen: VirtualClock
) -> None:
    """The breaker opens after 20 failed attempts; while open no request reaches the server; after the
    break a recovered server is probed and used again."""
    app, base_url = flaky
    breaker = CircuitBreakerPolicy(retry_config=FAST)  # ratio 0.5, window 30 s, 20 calls, break 5 s
    async with AsyncPipelineClient(base_url, policies=[RetryPolicy(FAST), breaker]) as client:
        opening = await _calls(client, 5, workers=1)
        assert opening == [503] * 5
        assert app.hits == 20
        assert breaker.state(base_url) is CircuitState.OPEN
        results = await _calls(client, 200)
        assert results == ["open"] * 200
        assert app.hits == 20  # amplification while open: 0
        app.failing = False
        frozen.advance(5.0)
        recovered = await _calls(client, 20, workers=1)
    assert recovered == [200] * 20
    assert app.hits == 40
    assert breaker.state(base_url) is CircuitState.CLOSED
