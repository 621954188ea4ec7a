"""Presets: AsyncPipelineClient(resilience="standard") and the cross-checked ResilienceConfig."""

from __future__ import annotations

import anyio
import httpx
import pydantic
import pytest

import pipework
from pipework import (
    AsyncPipelineClient,
    AttemptTimeoutPolicy,
    CircuitBreakerPolicy,
    CircuitState,
    ConfigurationError,
    ResilienceConfig,
    RetryConfig,
    RetryPolicy,
    history,
)
from pipework.pipeline import Pipeline
from pipework.resilience import CircuitBreakerConfig
from pipework.testing import ScriptedTransport, VirtualClock

from .conftest import send


def test_standard_preset_wires_retry_budget_breaker_timeout() -> None:
    """The preset puts breaker and attempt timeout right after a RetryPolicy that has a budget."""
    client = AsyncPipelineClient(resilience="standard", transport=ScriptedTransport(200))
    policies = list(client.pipeline.policies)
    retry = next(index for index, policy in enumerate(policies) if isinstance(policy, RetryPolicy))
    assert isinstance(policies[retry + 1], CircuitBreakerPolicy)
    assert isinstance(policies[retry + 2], AttemptTimeoutPolicy)
    assert policies[retry]._budget is not None  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_standard_preset_opens_on_a_failing_origin(clock: VirtualClock) -> None:
    """Through the client: a dead origin opens the breaker; later calls fail fast with CircuitOpenError."""
    transport = ScriptedTransport(httpx.ConnectError, repeat_last=True)
    async with AsyncPipelineClient("http://dead.test", resilience="standard", transport=transport) as client:
        breaker = client.pipeline.policies[
            [type(p) for p in client.pipeline.policies].index(CircuitBreakerPolicy)
        ]
        assert isinstance(breaker, CircuitBreakerPolicy)
        calls = 0
        while breaker.state("http://dead.test") is not CircuitState.OPEN:
            with pytest.raises((httpx.ConnectError, pipework.CircuitOpenError)):
                await client.get("/")
            calls += 1
        assert calls <= 7  # 20 failed attempts in the 30 s window (backoffs move virtual time)
        sent = transport.calls
        with pytest.raises(pipework.CircuitOpenError):
            await client.get("/")
    assert transport.calls == sent


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"attempt_timeout": 200}, "attempt_timeout"),
        ({"attempt_timeout": 20}, "breaker.window"),
        ({"retry": RetryConfig(total=8, backoff_factor=4, backoff_max=60, timeout=100)}, "backoff"),
    ],
)
def test_cross_checks(values: dict[str, object], message: str) -> None:
    """attempt < call timeout, window >= 2 x attempt timeout, total backoff <= call timeout."""
    with pytest.raises(pydantic.ValidationError, match=message):
        ResilienceConfig.model_validate(values)


def test_consistent_custom_config_is_accepted() -> None:
    """A config passing every check builds a client whose breaker and attempt timeout use its values."""
    config = ResilienceConfig(attempt_timeout=2, breaker=CircuitBreakerConfig(window=10))
    client = AsyncPipelineClient(resilience=config, transport=ScriptedTransport(200))
    [breaker] = [p for p in client.pipeline.policies if isinstance(p, CircuitBreakerPolicy)]
    [timeout] = [p for p in client.pipeline.policies if isinstance(p, AttemptTimeoutPolicy)]
    assert breaker.config.window == 10
    assert timeout.config.timeout == 2


def test_bad_resilience_arguments() -> None:
    """An unknown preset, or resilience= with retry_policy=, is refused naming the argument."""
    with pytest.raises(ConfigurationError, match="unknown preset 'fancy'"):
        AsyncPipelineClient(resilience="fancy", transport=ScriptedTransport(200))
    with pytest.raises(ConfigurationError, match="retry_policy"):
        AsyncPipelineClient(
            resilience="standard", retry_policy=RetryPolicy(), transport=ScriptedTransport(200)
        )


@pytest.mark.anyio
async def test_attempt_timeout_is_retried_as_unknown(clock: VirtualClock) -> None:
    """An attempt past its timeout raises ReadTimeout, which the retry policy retries for a GET."""

    async def stuck(request: httpx.Request) -> int:
        await anyio.sleep(5)
        return 200

    transport = ScriptedTransport(stuck, 200)
    pipeline = Pipeline(transport, [RetryPolicy(RetryConfig(jitter=0)), AttemptTimeoutPolicy(timeout=0.02)])
    response = await send(pipeline)
    assert response.status_code == 200
    assert [record.outcome for record in history(response)] == ["unknown", "success"]


def test_public_names_exported() -> None:
    """The resilience names are re-exported from pipework, and __all__ stays sorted."""
    for name in ("CircuitBreakerPolicy", "RetryBudget", "HedgingPolicy", "BulkheadPolicy", "ThrottledError"):
        assert name in pipework.__all__
    assert pipework.__all__ == sorted(pipework.__all__)
