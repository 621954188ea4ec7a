"""Errors a resilience policy raises lead back to the call: its request, context and attempt history."""

from __future__ import annotations

import anyio
import pytest

import pipework
from pipework import AsyncPipelineClient, BulkheadFullError, CircuitOpenError, RetryConfig
from pipework.resilience import BulkheadPolicy, CircuitBreakerPolicy
from pipework.transports import ScriptedTransport


@pytest.mark.anyio
async def test_circuit_open_error_carries_the_call() -> None:
    """An isolated circuit refuses without sending; the error names the request and holds the history."""
    breaker = CircuitBreakerPolicy()
    breaker.isolate("https://api.test")
    transport = ScriptedTransport(200)
    async with AsyncPipelineClient(
        "https://api.test", transport=transport, per_retry_policies=[breaker]
    ) as client:
        with pytest.raises(CircuitOpenError) as caught:
            await client.get("/items", request_id="call-7")
    assert transport.calls == 0
    assert caught.value.request is not None
    assert caught.value.request.url.path == "/items"
    ctx = pipework.context_of(caught.value)
    assert ctx is not None
    assert ctx.request_id == "call-7"
    assert [record.error for record in pipework.history(caught.value)] == ["CircuitOpenError"]


@pytest.mark.anyio
async def test_bulkhead_full_error_carries_the_request() -> None:
    """A request refused by a full bulkhead is the one the error names."""
    release = anyio.Event()

    async def slow(request: object) -> int:
        await release.wait()
        return 200

    bulkhead = BulkheadPolicy(max_concurrent=1, max_queued=0)
    transport = ScriptedTransport(slow, repeat_last=True)
    async with (
        AsyncPipelineClient(
            "https://api.test",
            transport=transport,
            per_retry_policies=[bulkhead],
            retry_policy=RetryConfig.disabled(),
        ) as client,
        anyio.create_task_group() as group,
    ):
        group.start_soon(client.get, "/first")
        await anyio.wait_all_tasks_blocked()
        with pytest.raises(BulkheadFullError) as caught:
            await client.get("/second")
        release.set()
    assert caught.value.request is not None
    assert caught.value.request.url.path == "/second"
    assert pipework.context_of(caught.value) is not None
