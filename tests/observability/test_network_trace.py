"""NetworkTraceLoggingPolicy: opt-in per client or per call, full but redacted, never reads a stream."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from pipework import AsyncPipelineClient, ConfigurationError, NetworkTraceLoggingPolicy
from pipework.testing import ScriptedTransport, VirtualClock

from .conftest import Capture

pytestmark = pytest.mark.anyio


def _json(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"access_token": "tok-SECRET", "expires_in": 3600, "name": "bob"})


async def test_off_unless_asked(capture_logs: Capture) -> None:
    """A default client writes nothing on pipework.network, even at DEBUG."""
    records = capture_logs(logging.DEBUG, "pipework.network")
    async with AsyncPipelineClient(transport=ScriptedTransport(200)) as client:
        await client.get("https://api.example.com/")
    assert records == []


async def test_per_call_option_traces_every_attempt(capture_logs: Capture, clock: VirtualClock) -> None:
    """network_trace=True on a call logs request and response of each attempt, headers and body in full."""
    records = capture_logs(logging.DEBUG, "pipework.network")
    transport = ScriptedTransport(503, _json)
    async with AsyncPipelineClient(transport=transport) as client:
        await client.put(
            "https://api.example.com/items?page=2",
            json={"name": "bob"},
            headers={"x-tenant": "contoso"},
            network_trace=True,
        )
    assert [(r.http_direction, r.attempt, r.http_status) for r in records] == [  # type: ignore[attr-defined]
        ("request", 1, None),
        ("response", 1, 503),
        ("request", 2, None),
        ("response", 2, 200),
    ]
    request_record, response_record = records[2], records[3]
    assert request_record.http_url == "https://api.example.com/items?page=2"  # type: ignore[attr-defined]
    assert request_record.http_headers["x-tenant"] == "contoso"  # type: ignore[attr-defined]
    assert json.loads(request_record.http_body) == {"name": "bob"}  # type: ignore[attr-defined]
    assert json.loads(response_record.http_body) == {  # type: ignore[attr-defined]
        "access_token": "REDACTED",
        "expires_in": 3600,
        "name": "bob",
    }
    assert "tok-SECRET" not in response_record.getMessage()
    assert len({r.request_id for r in records}) == 1  # type: ignore[attr-defined]


async def test_client_flag_and_per_call_opt_out(capture_logs: Capture) -> None:
    """network_trace=True on the client traces every call; network_trace=False on a call silences it."""
    records = capture_logs(logging.DEBUG, "pipework.network")
    async with AsyncPipelineClient(
        transport=ScriptedTransport(200, repeat_last=True), network_trace=True
    ) as c:
        await c.get("https://api.example.com/a")
        assert len(records) == 2
        await c.get("https://api.example.com/b", network_trace=False)
    assert len(records) == 2


async def test_streamed_response_body_is_not_read(capture_logs: Capture) -> None:
    """With stream=True the trace does not read the body: the caller still reads all of it afterwards."""
    records = capture_logs(logging.DEBUG, "pipework.network")

    async def chunks() -> object:
        yield b"part1-"
        yield b"part2"

    def streamed(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=chunks())  # type: ignore[arg-type]

    client = AsyncPipelineClient(transport=ScriptedTransport(streamed))
    async with client, client.stream("GET", "https://api.example.com/", network_trace=True) as response:
        assert not response.is_stream_consumed
        assert await response.aread() == b"part1-part2"
    assert "not read" in records[1].http_body  # type: ignore[attr-defined]


async def test_bodies_are_capped_and_forms_redacted(capture_logs: Capture) -> None:
    """A body longer than max_body_bytes is cut; form fields like client_secret are REDACTED."""
    records = capture_logs(logging.DEBUG, "pipework.network")
    policy = NetworkTraceLoggingPolicy(enabled=True, max_body_bytes=10)
    big = httpx.Response(200, text="x" * 100)
    async with AsyncPipelineClient(transport=ScriptedTransport(big), policies=[policy]) as client:
        await client.post(
            "https://login.example.com/token", data={"client_secret": "cs-SECRET", "grant_type": "client"}
        )
    assert "cs-SECRET" not in records[0].http_body  # type: ignore[attr-defined]
    assert records[0].http_body.startswith("client_sec")  # type: ignore[attr-defined]
    assert records[1].http_body == "xxxxxxxxxx... (100 bytes in all)"  # type: ignore[attr-defined]


def test_bad_cap_is_refused() -> None:
    """A negative or non-int max_body_bytes is a ConfigurationError naming it."""
    with pytest.raises(ConfigurationError, match="max_body_bytes"):
        NetworkTraceLoggingPolicy(max_body_bytes=-1)
    assert (
        repr(NetworkTraceLoggingPolicy(True))
        == "NetworkTraceLoggingPolicy(enabled=True, max_body_bytes=8192)"
    )
