"""HttpLoggingPolicy: one INFO record per attempt, allowlists, redaction, no work when disabled."""

from __future__ import annotations

import logging

import httpx
import pytest

from pipework import AsyncPipelineClient, ConfigurationError, HttpLoggingPolicy, RetryPolicy
from pipework.observability import _http_logging
from pipework.testing import ScriptedTransport, VirtualClock

from .conftest import Capture

pytestmark = pytest.mark.anyio


def _ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/plain", "x-internal": "hidden"}, text="ok")


async def test_one_record_per_attempt_with_the_call_s_request_id(
    capture_logs: Capture, clock: VirtualClock
) -> None:
    """Two retries give three INFO records: attempts 1..3, their statuses, one request id that is on the wire."""
    records = capture_logs(logging.INFO, "pipework.http")
    transport = ScriptedTransport(503, 503, _ok)
    async with AsyncPipelineClient(transport=transport) as client:
        response = await client.get("https://api.example.com/items")
    assert response.status_code == 200
    assert [(r.levelno, r.attempt, r.http_status) for r in records] == [  # type: ignore[attr-defined]
        (logging.INFO, 1, 503),
        (logging.INFO, 2, 503),
        (logging.INFO, 3, 200),
    ]
    wire_ids = {request.headers["x-ms-client-request-id"] for request in transport.requests}
    assert {r.request_id for r in records} == wire_ids  # type: ignore[attr-defined]
    assert len(wire_ids) == 1
    message = records[2].getMessage()
    assert message.startswith("HTTP GET https://api.example.com/items -> 200 (")
    assert "attempt 3" in message
    assert wire_ids.pop() in message
    assert all(isinstance(r.elapsed_ms, float) for r in records)  # type: ignore[attr-defined]


async def test_only_allowlisted_values_are_shown(capture_logs: Capture) -> None:
    """Headers and query values off the allowlists read REDACTED; defaults show content-type and api-version."""
    records = capture_logs(logging.INFO, "pipework.http")
    async with AsyncPipelineClient(transport=ScriptedTransport(_ok)) as client:
        await client.get(
            "https://api.example.com/x",
            params={"api-version": "2024-01-01", "filter": "name eq 'bob'"},
            headers={"x-tenant": "contoso"},
        )
    (record,) = records
    assert record.http_url == "https://api.example.com/x?api-version=2024-01-01&filter=REDACTED"  # type: ignore[attr-defined]
    assert record.http_request_headers["x-tenant"] == "REDACTED"  # type: ignore[attr-defined]
    assert record.http_response_headers["content-type"] == "text/plain"  # type: ignore[attr-defined]
    assert record.http_response_headers["x-internal"] == "REDACTED"  # type: ignore[attr-defined]


async def test_allowlists_extend_per_client_but_never_reveal_secrets(capture_logs: Capture) -> None:
    """logging_allowed_* add names; a secret name (sig, authorization) stays REDACTED even when listed."""
    records = capture_logs(logging.INFO, "pipework.http")
    async with AsyncPipelineClient(
        transport=ScriptedTransport(_ok),
        logging_allowed_headers=["X-Tenant", "Authorization"],
        logging_allowed_query_params=["filter", "sig"],
    ) as client:
        await client.get(
            "https://api.example.com/x",
            params={"filter": "a", "sig": "s3cr3t"},
            headers={"x-tenant": "contoso", "authorization": "Bearer t0ken"},
        )
    (record,) = records
    assert record.http_url == "https://api.example.com/x?filter=a&sig=REDACTED"  # type: ignore[attr-defined]
    assert record.http_request_headers["x-tenant"] == "contoso"  # type: ignore[attr-defined]
    assert record.http_request_headers["authorization"] == "REDACTED"  # type: ignore[attr-defined]


async def test_failed_attempt_logs_the_error_type(capture_logs: Capture, clock: VirtualClock) -> None:
    """An attempt that raised is logged with its error type, and every attempt is logged once."""
    records = capture_logs(logging.INFO, "pipework.http")
    transport = ScriptedTransport(httpx.ConnectError, _ok)
    async with AsyncPipelineClient(transport=transport) as client:
        await client.get("https://api.example.com/")
    assert [(r.error_type, r.http_status) for r in records] == [  # type: ignore[attr-defined]
        ("ConnectError", None),
        (None, 200),
    ]
    assert "-> ConnectError" in records[0].getMessage()


async def test_no_formatting_work_when_info_is_off(
    capture_logs: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At WARNING the policy neither formats nor redacts anything, nor touches the request."""
    records = capture_logs(logging.WARNING, "pipework.http")

    def explode(*args: object, **kwargs: object) -> str:
        raise AssertionError("formatting work with the logger off")

    monkeypatch.setattr(_http_logging, "redact_url", explode)
    monkeypatch.setattr(_http_logging, "redact_headers", explode)
    transport = ScriptedTransport(_ok)
    async with AsyncPipelineClient(transport=transport) as client:
        response = await client.get("https://api.example.com/")
    assert response.status_code == 200
    assert records == []
    assert not any(key.startswith("pipework.http") for key in transport.requests[0].extensions)


async def test_used_alone_under_a_plain_retry_policy(capture_logs: Capture) -> None:
    """Given as logging_policy=, the user's policy is the one in the chain."""
    records = capture_logs(logging.INFO, "pipework.http")
    policy = HttpLoggingPolicy(allowed_headers=["x-tenant"])
    async with AsyncPipelineClient(
        transport=ScriptedTransport(_ok), logging_policy=policy, retry_policy=RetryPolicy(retry_total=0)
    ) as client:
        assert policy in client.pipeline.policies
        await client.get("https://api.example.com/", headers={"x-tenant": "t1"})
    assert records[0].http_request_headers["x-tenant"] == "t1"  # type: ignore[attr-defined]


def test_bad_allowlists_are_refused_naming_the_argument() -> None:
    """A string (not a list of names) or a non-string name is a ConfigurationError naming the argument."""
    with pytest.raises(ConfigurationError, match="allowed_headers"):
        HttpLoggingPolicy(allowed_headers="x-tenant")
    with pytest.raises(ConfigurationError, match="allowed_query_params"):
        HttpLoggingPolicy(allowed_query_params=[1])  # type: ignore[list-item]
    with pytest.raises(ConfigurationError, match="logging_allowed_headers"):
        AsyncPipelineClient(logging_allowed_headers="x-tenant")
    with pytest.raises(ConfigurationError, match="logging_policy"):
        AsyncPipelineClient(logging_policy=HttpLoggingPolicy(), logging_allowed_headers=["a"])
    with pytest.raises(ConfigurationError, match="policies="):
        AsyncPipelineClient(policies=[RetryPolicy()], network_trace=True)
    assert "x-tenant" in repr(HttpLoggingPolicy(allowed_headers=["X-Tenant"]))
