"""ObservabilityHooks: on_attempt, on_retry and on_giveup with frozen events, never failing a request."""

from __future__ import annotations

import dataclasses
import logging

import httpx
import pytest

from pipework import (
    AsyncPipelineClient,
    AttemptEvent,
    ConfigurationError,
    GiveUpEvent,
    ObservabilityHooks,
    RetryConfig,
    RetryEvent,
)
from pipework.testing import ScriptedTransport, VirtualClock

from .conftest import Capture

pytestmark = pytest.mark.anyio


async def test_events_of_a_call_with_two_retries(clock: VirtualClock) -> None:
    """Three attempt events, two retry events carrying the slept delays, no give-up on success."""
    events: list[object] = []
    hooks = ObservabilityHooks(on_attempt=events.append, on_retry=events.append, on_giveup=events.append)
    transport = ScriptedTransport(503, httpx.ConnectError, 200)
    async with AsyncPipelineClient(transport=transport, hooks=hooks) as client:
        await client.get("https://api.example.com/x?token=t0k")
    kinds = [type(event).__name__ for event in events]
    assert kinds == ["AttemptEvent", "RetryEvent", "AttemptEvent", "RetryEvent", "AttemptEvent"]
    attempts = [e for e in events if isinstance(e, AttemptEvent)]
    retries = [e for e in events if isinstance(e, RetryEvent)]
    assert [(a.attempt, a.status, a.error_type) for a in attempts] == [
        (1, 503, None),
        (2, None, "ConnectError"),
        (3, 200, None),
    ]
    assert [(r.attempt, r.previous_outcome, r.previous_status) for r in retries] == [
        (2, "rejected", 503),
        (3, "not_sent", None),
    ]
    assert [r.delay for r in retries] == clock.sleeps
    request_id = transport.requests[0].headers["x-ms-client-request-id"]
    assert {a.request_id for a in attempts} == {request_id}
    assert attempts[0].url == "https://api.example.com/x?token=REDACTED"
    with pytest.raises(dataclasses.FrozenInstanceError):
        attempts[0].attempt = 9  # type: ignore[misc]


async def test_giveup_when_retries_run_out(clock: VirtualClock) -> None:
    """A call left with a retryable status reports why it stopped and how long it waited."""
    giveups: list[GiveUpEvent] = []
    async with AsyncPipelineClient(
        transport=ScriptedTransport(503, repeat_last=True),
        retry_policy=RetryConfig(total=2),
        hooks=ObservabilityHooks(on_giveup=giveups.append),
    ) as client:
        response = await client.get("https://api.example.com/")
    assert response.status_code == 503
    (event,) = giveups
    assert (event.attempts, event.status, event.error_type) == (3, 503, None)
    assert event.reason is not None
    assert "exhausted" in event.reason
    assert event.total_delay == pytest.approx(sum(clock.sleeps))


async def test_giveup_on_an_error_and_not_on_a_final_404(clock: VirtualClock) -> None:
    """A raised error is a give-up; a 404 is an answer, not a give-up."""
    giveups: list[GiveUpEvent] = []
    hooks = ObservabilityHooks(on_giveup=giveups.append)
    transport = ScriptedTransport(404, httpx.ConnectError, repeat_last=True)
    async with AsyncPipelineClient(transport=transport, hooks=hooks) as client:
        await client.get("https://api.example.com/")
        assert giveups == []
        with pytest.raises(httpx.ConnectError):
            await client.get("https://api.example.com/")
    assert [(g.error_type, g.attempts) for g in giveups] == [("ConnectError", 4)]


async def test_a_failing_hook_is_logged_not_raised(capture_logs: Capture) -> None:
    """A hook that raises does not fail the request; the error goes to pipework.hooks."""
    records = capture_logs(logging.ERROR, "pipework.hooks")

    def broken(event: AttemptEvent) -> None:
        raise RuntimeError("statsd down")

    async with AsyncPipelineClient(
        transport=ScriptedTransport(200), hooks=ObservabilityHooks(on_attempt=broken)
    ) as client:
        assert (await client.get("https://api.example.com/")).status_code == 200
    assert len(records) == 1
    assert records[0].exc_info is not None


def test_hooks_are_validated() -> None:
    """A non-callable hook, or hooks= of the wrong type, is a ConfigurationError naming it."""
    with pytest.raises(ConfigurationError, match="on_retry"):
        ObservabilityHooks(on_retry=42)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="hooks"):
        AsyncPipelineClient(hooks=print)  # type: ignore[arg-type]
    assert repr(ObservabilityHooks(on_giveup=print)) == "ObservabilityHooks(on_giveup)"
