"""Fault injection (policy and transport): scripts, seeded probabilities, latency through the clock."""

from __future__ import annotations

import httpx
import pytest

from pipework import ConfigurationError, RetryConfig, RetryPolicy, history
from pipework.pipeline import Pipeline
from pipework.testing import (
    FaultConfig,
    FaultInjectionPolicy,
    FaultInjectionTransport,
    ScriptedTransport,
    VirtualClock,
)

from .conftest import send


@pytest.mark.anyio
async def test_script_steps(clock: VirtualClock) -> None:
    """Status, error, reset, latency and pass, in order; only reset and pass reach the server."""
    transport = ScriptedTransport(200, repeat_last=True)
    faults = FaultInjectionPolicy(script=(503, "error", "reset", 0.25, "pass"))
    pipeline = Pipeline(transport, [faults])
    assert (await send(pipeline)).status_code == 503
    with pytest.raises(httpx.ConnectError):
        await send(pipeline)
    with pytest.raises(httpx.ReadError):
        await send(pipeline)
    assert transport.calls == 1
    assert (await send(pipeline)).status_code == 200
    assert (await send(pipeline)).status_code == 200
    assert clock.sleeps == [0.25]
    assert transport.calls == 3
    assert dict(faults.injected) == {"status": 1, "error": 1, "reset": 1, "latency": 1}


@pytest.mark.anyio
async def test_retry_policy_gets_past_injected_faults(clock: VirtualClock) -> None:
    """The faults users test retries with: two injected failures, then success on the third attempt."""
    transport = FaultInjectionTransport(ScriptedTransport(200, repeat_last=True), script=("error", 503))
    response = await send(Pipeline(transport, [RetryPolicy(RetryConfig(jitter=0))]))
    assert response.status_code == 200
    assert [record.outcome for record in history(response)] == ["not_sent", "rejected", "success"]


@pytest.mark.anyio
async def test_seeded_probabilities_replay(clock: VirtualClock) -> None:
    """The same seed gives the same faults; rates follow the probabilities."""

    async def run() -> list[str]:
        faults = FaultInjectionTransport(
            ScriptedTransport(200, repeat_last=True),
            seed=42,
            error_probability=0.2,
            status_probability=0.1,
            status=429,
        )
        seen = []
        for _ in range(500):
            try:
                seen.append(str((await send(Pipeline(faults, []))).status_code))
            except httpx.ConnectError:
                seen.append("error")
        return seen

    first, second = await run(), await run()
    assert first == second
    assert 70 <= first.count("error") <= 130
    assert 25 <= first.count("429") <= 75


def test_probabilities_are_validated() -> None:
    """Probabilities summing past 1 are refused, naming the problem."""
    with pytest.raises(ConfigurationError, match="sum"):
        FaultInjectionPolicy(error_probability=0.7, reset_probability=0.5)
    with pytest.raises(ConfigurationError, match="error_probability"):
        FaultInjectionPolicy(error_probability=2)
    assert "seed=3" in repr(FaultInjectionPolicy(FaultConfig(seed=3)))
