"""No secret in any log record (ours, httpx's, httpcore's), span attribute, span event or hook event."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from pipework import AsyncPipelineClient, ObservabilityHooks, RetryPolicy
from pipework.testing import ScriptedTransport, VirtualClock, serve

from ._apps import FlakyApp
from .conftest import Capture, Otel

pytestmark = pytest.mark.anyio

SECRETS = {
    "authorization": "AUTH-SECRET-1",
    "cookie": "COOKIE-SECRET-2",
    "x-api-key": "APIKEY-SECRET-3",
    "sig": "SIG-SECRET-4",
    "token": "TOKEN-SECRET-5",
    "set-cookie": "SETCOOKIE-SECRET-6",
}


def _leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS.values() if secret in text]


def _record_text(record: logging.LogRecord) -> str:
    return record.getMessage() + " " + " ".join(repr(value) for value in vars(record).values())


def _span_text(span: Any) -> str:
    parts = [span.name, repr(dict(span.attributes)), repr(span.status.description)]
    parts += [f"{event.name} {dict(event.attributes)!r}" for event in span.events]
    return " ".join(parts)


async def test_no_secret_leaves_through_logs_spans_or_hooks(
    capture_logs: Capture, otel: Otel, clock: VirtualClock
) -> None:
    """Authorization, Cookie, x-api-key, ?sig&token and Set-Cookie stay REDACTED everywhere, at DEBUG."""
    records = capture_logs(logging.DEBUG, "pipework", "httpx", "httpcore")
    events: list[object] = []
    hooks = ObservabilityHooks(on_attempt=events.append, on_retry=events.append, on_giveup=events.append)
    app = FlakyApp(503, 200, headers=[(b"set-cookie", f"id={SECRETS['set-cookie']}; HttpOnly".encode())])
    with serve(app) as url:
        async with AsyncPipelineClient(
            url, network_trace=True, tracing=otel.tracing(), hooks=hooks
        ) as client:
            response = await client.get(
                "/secret-path",
                params={"sig": SECRETS["sig"], "token": SECRETS["token"], "page": "1"},
                headers={
                    "Authorization": f"Bearer {SECRETS['authorization']}",
                    "Cookie": f"session={SECRETS['cookie']}",
                    "x-api-key": SECRETS["x-api-key"],
                },
            )
    assert response.status_code == 200
    seen = app.seen[-1]  # the secrets did go on the wire: the test would catch a leak
    assert SECRETS["x-api-key"] in seen["x-api-key"]
    assert SECRETS["cookie"] in seen["cookie"]
    assert SECRETS["set-cookie"] in response.headers["set-cookie"]

    loggers = {record.name for record in records}
    assert {"pipework.http", "pipework.network", "pipework.retry"} <= loggers
    assert any(name.startswith("httpcore") for name in loggers)
    network = [r for r in records if r.name == "pipework.network"]
    assert len(network) == 4
    assert "REDACTED" in network[1].getMessage()
    for record in records:
        assert _leaks(_record_text(record)) == [], record.name
    assert not [r for r in records if r.name.startswith("httpx") and "secret-path" in _record_text(r)]
    request_id = seen["x-ms-client-request-id"]  # the correlation id is on every pipework record of the call
    assert {getattr(r, "request_id", None) for r in records if r.name.startswith("pipework")} == {request_id}

    spans = otel.spans()
    assert len(spans) == 3
    for span in spans:
        assert _leaks(_span_text(span)) == []
    assert len(events) == 3
    for event in events:
        assert _leaks(repr(event)) == []


async def test_an_error_message_with_the_url_is_not_logged(
    capture_logs: Capture, otel: Otel, clock: VirtualClock
) -> None:
    """Exception messages may quote the URL: logs and spans show the error type only."""
    records = capture_logs(logging.DEBUG, "pipework")

    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    async with AsyncPipelineClient(
        transport=ScriptedTransport(fail),
        retry_policy=RetryPolicy(retry_total=0),
        network_trace=True,
        tracing=otel.tracing(),
    ) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("https://api.example.com/", params={"sig": SECRETS["sig"]})
    assert records
    for record in records:
        assert _leaks(_record_text(record)) == [], record.name
    for span in otel.spans():
        assert _leaks(_span_text(span)) == []


async def test_httpx_logger_redacts_a_pipeline_under_a_plain_httpx_client(
    capture_logs: Capture, clock: VirtualClock
) -> None:
    """httpx's own INFO line (written only under httpx.AsyncClient) shows the URL with secrets redacted."""
    records = capture_logs(logging.INFO, "httpx")
    client = AsyncPipelineClient(transport=ScriptedTransport(200))
    async with httpx.AsyncClient(transport=client.pipeline) as plain:
        await plain.get("https://api.example.com/x", params={"sig": SECRETS["sig"], "page": "1"})
    (record,) = records
    assert "https://api.example.com/x?sig=REDACTED&page=1" in record.getMessage()
    assert _leaks(_record_text(record)) == []
