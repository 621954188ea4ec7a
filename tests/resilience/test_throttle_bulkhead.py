"""AdaptiveThrottlePolicy (the SRE formula) and BulkheadPolicy (in flight and queued per origin)."""

from __future__ import annotations

import anyio
import httpx
import pytest

from pipework import (
    AdaptiveThrottlePolicy,
    BulkheadFullError,
    BulkheadPolicy,
    ConfigurationError,
    ThrottledError,
)
from pipework.pipeline import Pipeline
from pipework.resilience import AdaptiveThrottleConfig, rejection_probability
from pipework.testing import ScriptedTransport, VirtualClock

from .conftest import send

URL = "http://origin.test/x"


@pytest.mark.parametrize(
    ("requests", "accepts", "expected"),
    [(0, 0, 0.0), (10, 10, 0.0), (10, 5, 0.0), (10, 4, 2 / 11), (99, 0, 0.99), (100, 50, 0.0)],
)
def test_rejection_probability(requests: int, accepts: int, expected: float) -> None:
    """max(0, (requests - 2 accepts) / (requests + 1)), K = 2."""
    assert rejection_probability(requests, accepts, 2.0) == pytest.approx(expected)


@pytest.mark.anyio
async def test_throttle_sheds_while_refused_and_recovers(frozen: VirtualClock) -> None:
    """Against a 503 wall most requests are dropped locally; once the window forgets it, calls flow."""
    throttle = AdaptiveThrottlePolicy(AdaptiveThrottleConfig(seed=7, window=10))
    transport = ScriptedTransport(503, repeat_last=True)
    pipeline = Pipeline(transport, [throttle])
    dropped = 0
    for _ in range(200):
        try:
            await send(pipeline)
        except ThrottledError:
            dropped += 1
    assert dropped + transport.calls == 200
    assert dropped > 150
    assert throttle.probability(URL) > 0.9
    frozen.advance(11)
    assert throttle.probability(URL) == 0.0
    healthy = Pipeline(ScriptedTransport(200, repeat_last=True), [throttle])
    for _ in range(20):
        assert (await send(healthy)).status_code == 200


@pytest.mark.anyio
async def test_throttle_never_drops_while_accepted(frozen: VirtualClock) -> None:
    """An origin that accepts everything is never throttled (even with 404s)."""
    throttle = AdaptiveThrottlePolicy()
    transport = ScriptedTransport(200, 404, repeat_last=True)
    for _ in range(100):
        await send(Pipeline(transport, [throttle]))
    assert transport.calls == 100


def test_throttle_bad_k_is_named() -> None:
    """k below 1 would shed healthy traffic: refused, naming k."""
    with pytest.raises(ConfigurationError, match="k"):
        AdaptiveThrottlePolicy(k=0.5)


@pytest.mark.anyio
async def test_bulkhead_limits_in_flight_and_queue() -> None:
    """One in flight, one queued, the third refused without being sent; the queued one runs after."""
    bulkhead = BulkheadPolicy(max_concurrent=1, max_queued=1)
    release = anyio.Event()

    async def held(request: httpx.Request) -> int:
        await release.wait()
        return 200

    transport = ScriptedTransport(held, repeat_last=True)
    pipeline = Pipeline(transport, [bulkhead])
    statuses: list[int] = []

    async def call() -> None:
        statuses.append((await send(pipeline)).status_code)

    async with anyio.create_task_group() as group:
        group.start_soon(call)
        group.start_soon(call)
        await anyio.wait_all_tasks_blocked()
        assert bulkhead.in_flight(URL) == (1, 1)
        with pytest.raises(BulkheadFullError, match="max_queued=1"):
            await send(pipeline)
        assert transport.calls == 1
        release.set()
    assert statuses == [200, 200]
    assert bulkhead.in_flight(URL) == (0, 0)


@pytest.mark.anyio
async def test_bulkhead_is_per_origin() -> None:
    """A full compartment for one origin does not block another."""
    bulkhead = BulkheadPolicy(max_concurrent=1)
    never = anyio.Event()

    async def held(request: httpx.Request) -> int:
        if request.url.host == "slow.test":
            await never.wait()
        return 200

    pipeline = Pipeline(ScriptedTransport(held, repeat_last=True), [bulkhead])
    async with anyio.create_task_group() as group:
        group.start_soon(send, pipeline, "http://slow.test/")
        await anyio.wait_all_tasks_blocked()
        with pytest.raises(BulkheadFullError):
            await send(pipeline, "http://slow.test/")
        assert (await send(pipeline, "http://fast.test/")).status_code == 200
        group.cancel_scope.cancel()
    assert bulkhead.in_flight("http://slow.test/") == (0, 0)


def test_bulkhead_bad_values_are_named() -> None:
    """max_concurrent must be at least 1."""
    with pytest.raises(ConfigurationError, match="max_concurrent"):
        BulkheadPolicy(max_concurrent=0)
    assert repr(BulkheadPolicy()) == "BulkheadPolicy(max_concurrent=10, max_queued=0)"
