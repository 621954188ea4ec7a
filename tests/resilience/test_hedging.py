"""HedgingPolicy: tail latency at a loopback server, idempotent requests only, budget, losers closed."""

from __future__ import annotations

import time

import anyio
import httpx
import pytest

from pipework import AsyncPipelineClient, ConfigurationError, HedgingPolicy, RetryBudget
from pipework.pipeline import Pipeline
from pipework.testing import ScriptedTransport, serve

from ._apps import TailApp
from .conftest import send


@pytest.mark.anyio
async def test_hedging_cuts_the_tail() -> None:
    """5% of calls have a primary stuck for 1 s: each is answered by its hedge (sent after 50 ms), no call waits
    for a stuck primary, at most 10% extra requests, and the cancelled losers leave no connection busy."""
    app = TailApp(every=20, delay=1.0)
    calls = 200
    hedging = HedgingPolicy(delay=0.05, budget=RetryBudget())
    with serve(app) as base_url:
        async with AsyncPipelineClient(base_url, policies=[hedging]) as client:
            latencies = []
            for number in range(calls):
                started = time.perf_counter()
                response = await client.get("/", headers={"x-call": str(number)})
                latencies.append(time.perf_counter() - started)
                assert response.text == "ok"
            pool = client.pipeline.transport._pool  # type: ignore[attr-defined]
            assert all(connection.is_idle() for connection in pool.connections)
            assert len(pool.connections) <= 2
    # A deadline, not a speed figure: a call that waited for its stuck primary would take >= 1 s; the slack
    # below it is generous for a loaded runner (a hedged call takes ~50 ms).
    slowest = max(latencies[number] for number in range(0, calls, 20))
    assert slowest < 0.7
    assert calls + 10 <= app.hits <= calls * 1.10  # every stuck call was hedged, and little else was


def _slow_then_fast() -> ScriptedTransport:
    async def slow(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(5)
        return httpx.Response(200, text="slow")

    return ScriptedTransport(slow, httpx.Response(200, text="fast"))


@pytest.mark.anyio
async def test_first_good_response_wins_and_loser_is_cancelled() -> None:
    """The hedge answers first; the primary (still waiting) is cancelled at once."""
    transport = _slow_then_fast()
    started = time.perf_counter()
    response = await send(Pipeline(transport, [HedgingPolicy(delay=0.01)]))
    assert response.text == "fast"
    assert time.perf_counter() - started < 2
    assert transport.calls == 2


@pytest.mark.anyio
async def test_non_idempotent_requests_are_not_hedged() -> None:
    """A POST without an Idempotency-Key is sent once, however slow."""
    transport = ScriptedTransport(200)
    assert (await send(Pipeline(transport, [HedgingPolicy(delay=0.001)]), method="POST")).status_code == 200
    assert transport.calls == 1


@pytest.mark.anyio
async def test_no_hedge_when_the_budget_is_spent() -> None:
    """Hedges draw from the retry budget: an empty one sends no hedge."""

    async def slow(request: httpx.Request) -> int:
        await anyio.sleep(0.05)
        return 200

    transport = ScriptedTransport(slow, repeat_last=True)
    empty = RetryBudget(ratio=0, min_retries_per_second=0)
    response = await send(Pipeline(transport, [HedgingPolicy(delay=0.001, budget=empty)]))
    assert response.status_code == 200
    assert transport.calls == 1


@pytest.mark.anyio
async def test_bad_responses_are_closed_and_the_first_returned() -> None:
    """When every attempt is rejected (503) the first is returned and the other closed."""
    closed: list[bool] = []

    class Tracked(httpx.AsyncByteStream):
        async def __aiter__(self):  # type: ignore[no-untyped-def,override]
            yield b""

        async def aclose(self) -> None:
            closed.append(True)

    async def rejected(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(0.05)
        return httpx.Response(503, stream=Tracked())

    transport = ScriptedTransport(rejected, repeat_last=True)
    response = await send(Pipeline(transport, [HedgingPolicy(delay=0.01)]))
    assert response.status_code == 503
    assert transport.calls == 2
    assert len(closed) >= 2  # the discarded one closed by the policy, the returned one read by the edge


@pytest.mark.anyio
async def test_adaptive_delay_follows_observed_p95() -> None:
    """With adaptive_delay the delay becomes the origin's observed p95 once enough samples are in."""
    hedging = HedgingPolicy(adaptive_delay=True, delay=0.5)
    hedging_config = hedging.config.model_copy(update={"min_samples": 5, "samples": 10})
    hedging = HedgingPolicy(hedging_config)
    pipeline = Pipeline(ScriptedTransport(200, repeat_last=True), [hedging])
    assert hedging.delay_for("http://origin.test/") == 0.5
    for _ in range(5):
        await send(pipeline)
    assert hedging.delay_for("http://origin.test/") < 0.5


def test_bad_values_are_named() -> None:
    """A bad delay or budget is refused at construction, naming the argument."""
    with pytest.raises(ConfigurationError, match="delay"):
        HedgingPolicy(delay=0)
    with pytest.raises(ConfigurationError, match="budget"):
        HedgingPolicy(budget=object())  # type: ignore[arg-type]
    assert "delay=0.05s" in repr(HedgingPolicy())
