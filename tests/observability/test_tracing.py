"""DistributedTracingPolicy: a call span, one child span per attempt, traceparent on the wire, metrics."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from pipework import AsyncPipelineClient, RetryPolicy
from pipework.observability import AttemptTracingPolicy, DistributedTracingPolicy
from pipework.testing import ScriptedTransport, VirtualClock, serve

from ._apps import FlakyApp
from .conftest import Otel

pytestmark = pytest.mark.anyio


@pytest.fixture
def flaky() -> Iterator[tuple[FlakyApp, str]]:
    """A loopback server answering 503, 503, then 200."""
    app = FlakyApp(503, 503, 200)
    with serve(app) as url:
        yield app, url


async def test_two_retries_give_a_call_span_and_three_attempt_spans(
    otel: Otel, clock: VirtualClock, flaky: tuple[FlakyApp, str]
) -> None:
    """1 INTERNAL parent + 3 CLIENT children with semconv attributes and resend counts 0/1/2."""
    app, url = flaky
    async with AsyncPipelineClient(url, tracing=otel.tracing()) as client:
        response = await client.get("/items", params={"sig": "s3cr3t", "page": "1"})
    assert response.status_code == 200
    spans = otel.spans()
    assert len(spans) == 4
    *attempts, call = spans
    assert call.parent is None
    assert call.kind.name == "INTERNAL"
    assert call.name == "GET"
    assert call.attributes["http.response.status_code"] == 200
    port = int(url.rsplit(":", 1)[1])
    request_id = app.seen[0]["x-ms-client-request-id"]
    for number, span in enumerate(attempts, start=1):
        assert span.kind.name == "CLIENT"
        assert span.name == "GET"
        assert span.parent.span_id == call.context.span_id
        assert span.context.trace_id == call.context.trace_id
        attributes = dict(span.attributes)
        assert attributes.pop("http.request.resend_count", 0) == number - 1
        assert attributes["http.request.method"] == "GET"
        assert attributes["url.full"] == f"{url}/items?sig=REDACTED&page=1"
        assert attributes["server.address"] == "127.0.0.1"
        assert attributes["server.port"] == port
        assert attributes["pipework.request_id"] == request_id
    assert [s.attributes["http.response.status_code"] for s in attempts] == [503, 503, 200]
    assert [s.attributes.get("error.type") for s in attempts] == ["503", "503", None]
    assert [s.status.status_code.name for s in attempts] == ["ERROR", "ERROR", "UNSET"]
    assert call.attributes["pipework.request_id"] == request_id


async def test_traceparent_on_the_wire_matches_each_attempt_span(
    otel: Otel, clock: VirtualClock, flaky: tuple[FlakyApp, str]
) -> None:
    """The server sees, for attempt n, the W3C traceparent of attempt span n."""
    app, url = flaky
    async with AsyncPipelineClient(url, tracing=otel.tracing()) as client:
        await client.get("/")
    attempts = otel.spans()[:3]
    expected = [
        f"00-{s.context.trace_id:032x}-{s.context.span_id:016x}-{int(s.context.trace_flags):02x}"
        for s in attempts
    ]
    assert len(set(expected)) == 3
    assert [seen["traceparent"] for seen in app.seen] == expected


async def test_metrics_per_attempt_and_per_call(
    otel: Otel, clock: VirtualClock, flaky: tuple[FlakyApp, str]
) -> None:
    """http.client.request.duration has 3 points; the call records 2 retries, their delay and its outcome."""
    _, url = flaky
    async with AsyncPipelineClient(url, tracing=otel.tracing()) as client:
        await client.get("/")
    durations = otel.metric("http.client.request.duration")
    assert sum(point.count for point in durations) == 3
    by_status = {point.attributes["http.response.status_code"]: point.count for point in durations}
    assert by_status == {503: 2, 200: 1}
    assert list(durations[0].explicit_bounds)[:3] == [0.005, 0.01, 0.025]
    assert all(point.attributes["server.address"] == "127.0.0.1" for point in durations)
    (retries,) = otel.metric("pipework.client.retries")
    assert retries.value == 2
    (delay,) = otel.metric("pipework.client.retry.delay")
    assert delay.sum == pytest.approx(sum(clock.sleeps))
    (call,) = otel.metric("pipework.client.call.duration")
    assert call.count == 1
    assert call.attributes["pipework.outcome"] == "success"


async def test_errors_set_error_type_and_status(otel: Otel, clock: VirtualClock) -> None:
    """A transport error marks both spans ERROR with error.type = the exception's qualified name."""
    transport = ScriptedTransport(httpx.ConnectError)
    policy = otel.tracing()
    async with AsyncPipelineClient(
        transport=transport, retry_policy=RetryPolicy(retry_total=0), tracing=policy
    ) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("https://api.example.com/")
    attempt, call = otel.spans()
    for span in (attempt, call):
        assert span.attributes["error.type"] == "httpx.ConnectError"
        assert span.status.status_code.name == "ERROR"
        assert span.status.description == "httpx.ConnectError"
        assert not span.events
    assert "traceparent" in transport.requests[0].headers
    (point,) = otel.metric("http.client.request.duration")
    assert point.attributes["error.type"] == "httpx.ConnectError"


async def test_policies_list_places_both_halves(otel: Otel) -> None:
    """With policies=, tracing= puts the call half before retry and the attempt half last."""
    policy = otel.tracing(metrics=False)
    retry = RetryPolicy()
    client = AsyncPipelineClient(transport=ScriptedTransport(200), policies=[retry], tracing=policy)
    assert client.pipeline.policies == (policy, retry, policy.attempt_policy)
    assert isinstance(policy.attempt_policy, AttemptTracingPolicy)
    assert repr(policy) == "DistributedTracingPolicy(metrics=False)"
    await client.aclose()


def test_default_chain_has_no_tracing() -> None:
    """Tracing is opt-in: the default chain holds no tracing policy."""
    client = AsyncPipelineClient(transport=ScriptedTransport(200))
    assert not any(
        isinstance(p, DistributedTracingPolicy | AttemptTracingPolicy) for p in client.pipeline.policies
    )


def test_opentelemetry_is_not_imported_with_pipework() -> None:
    """Importing pipework loads nothing from opentelemetry; without it, tracing=True says what to install."""
    code = (
        "import sys\n"
        "import pipework\n"
        "assert not [m for m in sys.modules if m.startswith('opentelemetry')], 'imported'\n"
        "sys.modules['opentelemetry'] = None\n"
        "try:\n"
        "    pipework.AsyncPipelineClient(tracing=True)\n"
        "except ImportError as exc:\n"
        "    assert 'pipework[otel]' in str(exc), exc\n"
        "else:\n"
        "    raise AssertionError('no ImportError')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
