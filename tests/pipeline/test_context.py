"""The call context: one object per send(), the same on every retry, attempts counted, options checked."""

from __future__ import annotations

import httpx
import pytest

from pipework import AsyncPipelineClient, CallContext, CallNext, context_of, history
from pipework.testing import ScriptedTransport, VirtualClock

pytestmark = pytest.mark.anyio


class SeeContext:
    """A per-retry policy recording the context object and attempt number of each attempt."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, int]] = []
        self.contexts: list[CallContext | None] = []

    async def __call__(self, request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
        ctx = context_of(request)
        self.contexts.append(ctx)
        self.seen.append((id(ctx), ctx.attempt if ctx else -1))
        return await call_next(request)


async def test_one_context_per_send_survives_retries(clock: VirtualClock) -> None:
    """Every attempt of a retried call sees the same CallContext; attempt counts 1, 2, 3."""
    spy = SeeContext()
    transport = ScriptedTransport(503, 503, 200)
    async with AsyncPipelineClient(transport=transport, per_retry_policies=[spy]) as client:
        response = await client.get("http://h.test/")
    assert response.status_code == 200
    ctx = context_of(response)
    assert ctx is not None
    assert all(seen is ctx for seen in spy.contexts)
    assert [attempt for _, attempt in spy.seen] == [1, 2, 3]
    assert ctx.attempt == 3
    assert ctx.retries == 2
    assert [record.status for record in history(response)] == [503, 503, 200]
    assert [record.number for record in ctx.history] == [1, 2, 3]
    assert all(request.extensions["pipework"] is ctx for request in transport.requests)


async def test_each_send_gets_a_new_context() -> None:
    """Two calls never share a context (no state leaks from one call to the next)."""
    async with AsyncPipelineClient(transport=ScriptedTransport(200, repeat_last=True)) as client:
        first = await client.get("http://h.test/a")
        second = await client.get("http://h.test/b")
    assert context_of(first) is not context_of(second)
    assert [len(history(first)), len(history(second))] == [1, 1]


async def test_per_call_options_land_in_the_context() -> None:
    """request_id=, extras= and network_trace= reach the context a custom policy reads."""
    spy = SeeContext()
    async with AsyncPipelineClient(transport=ScriptedTransport(200), per_call_policies=[spy]) as client:
        await client.get("http://h.test/", request_id="rid-1", extras={"tenant": "t1"}, network_trace=False)
    ctx = spy.contexts[0]
    assert ctx is not None
    assert (ctx.request_id, ctx.extras, ctx.network_trace, ctx.stream) == (
        "rid-1",
        {"tenant": "t1"},
        False,
        False,
    )


async def test_unknown_per_call_option_raises_type_error_naming_it() -> None:
    """A misspelt per-call option is a TypeError naming it, and nothing is sent."""
    transport = ScriptedTransport(200)
    async with AsyncPipelineClient(transport=transport) as client:
        with pytest.raises(TypeError, match="'retires'"):
            await client.get("http://h.test/", retires=5)  # type: ignore[call-arg]
    assert transport.calls == 0


async def test_context_of_an_error_gives_the_call_history(clock: VirtualClock) -> None:
    """An error that ends a call carries the request, so history(exc) lists every attempt."""
    transport = ScriptedTransport(httpx.ConnectError, repeat_last=True)
    async with AsyncPipelineClient(transport=transport) as client:
        with pytest.raises(httpx.ConnectError) as caught:
            await client.get("http://h.test/")
    assert [record.outcome for record in history(caught.value)] == ["not_sent"] * 4
    assert transport.calls == 4


def test_context_of_objects_without_a_context() -> None:
    """context_of/history of a bare request, response or error give None/()."""
    request = httpx.Request("GET", "http://h.test/")
    assert context_of(request) is None
    assert context_of(httpx.Response(200)) is None
    assert context_of(ValueError()) is None
    assert history(request) == ()
