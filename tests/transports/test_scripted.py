"""ScriptedTransport (steps, recording, running out) and the default transport factory."""

from __future__ import annotations

import httpx
import pytest

from pipework.transports import DEFAULT_LIMITS, DEFAULT_TIMEOUT, ScriptedTransport, create_transport

pytestmark = pytest.mark.anyio


async def _send(transport: httpx.AsyncBaseTransport, content: bytes = b"") -> httpx.Response:
    return await transport.handle_async_request(httpx.Request("POST", "http://h.test/", content=content))


async def test_steps_are_answered_in_order_and_requests_recorded() -> None:
    """Status codes, responses and functions (sync or async) answer requests in order; bodies are kept."""

    async def later(request: httpx.Request) -> httpx.Response:
        return httpx.Response(202, text="async")

    transport = ScriptedTransport(201, httpx.Response(204), lambda request: 418, later)
    statuses = [(await _send(transport, f"b{n}".encode())).status_code for n in range(4)]
    assert statuses == [201, 204, 418, 202]
    assert transport.calls == 4
    assert transport.bodies == [b"b0", b"b1", b"b2", b"b3"]
    assert repr(transport) == "ScriptedTransport(4 steps, 4 calls)"


async def test_exception_steps_are_raised_with_the_request() -> None:
    """An httpx error class is raised with the request attached; an instance is raised as is."""
    transport = ScriptedTransport(httpx.ReadTimeout, ValueError("boom"))
    with pytest.raises(httpx.ReadTimeout) as caught:
        await _send(transport)
    assert caught.value.request is transport.requests[0]
    with pytest.raises(ValueError, match="boom"):
        await _send(transport)


async def test_script_running_out_fails_loudly_unless_repeat_last() -> None:
    """A request past the end is an AssertionError; with repeat_last the last step repeats."""
    strict = ScriptedTransport(200)
    await _send(strict)
    with pytest.raises(AssertionError, match="ran out"):
        await _send(strict)
    repeating = ScriptedTransport(500, 200, repeat_last=True)
    assert [(await _send(repeating)).status_code for _ in range(4)] == [500, 200, 200, 200]


def test_empty_script_is_refused() -> None:
    """A script needs at least one step."""
    with pytest.raises(ValueError, match="at least one step"):
        ScriptedTransport()


async def test_aclose_marks_closed() -> None:
    """aclose() is recorded so tests can check their client closed the transport."""
    transport = ScriptedTransport(200)
    await transport.aclose()
    assert transport.closed


def test_default_timeouts_and_limits_are_finite() -> None:
    """Every default per-attempt timeout and the connection limits are finite."""
    assert all(value is not None and value > 0 for value in DEFAULT_TIMEOUT.as_dict().values())
    assert DEFAULT_LIMITS.max_connections is not None
    assert DEFAULT_LIMITS.max_connections > 0
    assert isinstance(create_transport(), httpx.AsyncHTTPTransport)
