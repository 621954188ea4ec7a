"""RetryPolicy: the reference page's keywords and examples, per-call overrides, history, and log lines."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import httpx
import pytest

from pipework import AsyncPipelineClient, ConfigurationError, RetryConfig, RetryPolicy, history
from pipework.testing import ScriptedTransport, VirtualClock

from ._servers import ScriptedApp, closed_port_url

Server = tuple[str, ScriptedApp]


def test_keywords_map_onto_the_config() -> None:
    """The reference page's keyword names set the matching RetryConfig fields."""
    policy = RetryPolicy(
        retry_total=5,
        retry_connect=1,
        retry_read=2,
        retry_status=3,
        retry_backoff_factor=0.5,
        retry_backoff_max=120,
        retry_mode="fixed",
        retry_on_status_codes=[429, 500, 502, 503, 504],
        retry_jitter="full",
        retry_after_max=30,
        timeout=300,
    )
    assert policy.config == RetryConfig(
        total=5,
        connect=1,
        read=2,
        status=3,
        backoff_factor=0.5,
        backoff_max=120,
        mode="fixed",
        status_codes=frozenset({429, 500, 502, 503, 504}),
        jitter="full",
        retry_after_max=30,
        timeout=300,
    )


def test_keywords_override_a_given_config() -> None:
    """RetryPolicy(config, retry_total=...) keeps the config's other fields."""
    policy = RetryPolicy(RetryConfig(backoff_factor=0.1, jitter=0), retry_total=1)
    assert policy.config == RetryConfig(total=1, backoff_factor=0.1, jitter=0)
    assert RetryPolicy().config == RetryConfig()
    assert repr(policy) == "RetryPolicy(RetryConfig(total=1, backoff_factor=0.1, jitter=0.0))"


@pytest.mark.parametrize(
    ("keywords", "named"),
    [
        ({"retry_total": -1}, "retry_total"),
        ({"retry_connect": -1}, "retry_connect"),
        ({"retry_read": -1}, "retry_read"),
        ({"retry_status": -1}, "retry_status"),
        ({"retry_backoff_factor": -1}, "retry_backoff_factor"),
        ({"retry_backoff_max": -1}, "retry_backoff_max"),
        ({"retry_mode": "linear"}, "retry_mode"),
        ({"retry_on_status_codes": [503, 700]}, "retry_on_status_codes"),
        ({"retry_on_status_codes": ["x"]}, "retry_on_status_codes"),
        ({"retry_jitter": 2}, "retry_jitter"),
        ({"retry_after_max": -1}, "retry_after_max"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": 0.1, "retry_backoff_factor": 1}, "timeout"),
    ],
)
def test_bad_keyword_names_the_keyword(keywords: dict[str, Any], named: str) -> None:
    """A bad value raises ConfigurationError at construction, naming the keyword argument."""
    with pytest.raises(ConfigurationError, match=named):
        RetryPolicy(**keywords)


def test_config_must_be_a_retry_config() -> None:
    """A positional argument that is not a RetryConfig is refused with a clear message."""
    with pytest.raises(ConfigurationError, match="RetryConfig"):
        RetryPolicy({"total": 3})  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_reference_example_custom_retry_policy(server: Server, clock: VirtualClock) -> None:
    """The reference page's custom RetryPolicy, as written: 5 retries from 0.5 s, then the 503."""
    url, app = server
    path = app.script(503)
    retry_policy = RetryPolicy(
        retry_total=5,  # Maximum number of retry attempts
        retry_backoff_factor=0.5,  # Base backoff time in seconds
        retry_backoff_max=120,  # Maximum backoff time in seconds
        retry_on_status_codes=[429, 500, 502, 503, 504],  # HTTP status codes to retry
    )
    async with AsyncPipelineClient(url, retry_policy=retry_policy) as client:
        response = await client.get(path)
    assert response.status_code == 503
    assert app.count(path) == 6
    for slept, nominal in zip(clock.sleeps, [0.5, 1, 2, 4, 8], strict=True):
        assert nominal * 0.8 - 0.001 <= slept <= nominal * 1.2 + 0.001


@pytest.mark.anyio
async def test_reference_example_disabling_retries(server: Server, clock: VirtualClock) -> None:
    """The reference page's `RetryPolicy(retry_total=0)`: one attempt, nothing slept."""
    url, app = server
    path = app.script(503, 200)
    no_retry_policy = RetryPolicy(retry_total=0)
    async with AsyncPipelineClient(url, retry_policy=no_retry_policy) as client:
        response = await client.get(path)
    assert response.status_code == 503
    assert app.count(path) == 1
    assert clock.sleeps == []


@pytest.mark.anyio
async def test_per_call_override_holds_for_every_attempt(server: Server, clock: VirtualClock) -> None:
    """`retry=` on a call replaces the client's config for all its attempts, and only for that call."""
    url, app = server
    path = app.script(503)
    override = RetryConfig(total=5, mode="fixed", backoff_factor=0.1, jitter=0)
    async with AsyncPipelineClient(url, retry_policy=RetryConfig.disabled()) as client:
        response = await client.get(path, retry=override)
        assert app.count(path) == 6
        assert clock.sleeps == [0.1] * 5
        assert [a.delay for a in history(response)] == [0.1] * 5 + [0.0]
        await client.get(path)
    assert app.count(path) == 7


@pytest.mark.anyio
async def test_per_call_override_on_send(clock: VirtualClock) -> None:
    """`client.send(request, retry=...)` takes the override too."""
    transport = ScriptedTransport(503, 503, 200)
    async with AsyncPipelineClient(transport=transport, retry_policy=RetryConfig.disabled()) as client:
        request = client.build_request("GET", "http://127.0.0.1/x")
        response = await client.send(request, retry=RetryConfig(total=2, jitter=0))
    assert response.status_code == 200
    assert transport.calls == 3
    assert clock.sleeps == [0.8, 1.6]


@pytest.mark.anyio
async def test_history_on_response_and_error(clock: VirtualClock) -> None:
    """pipework.history() tells each attempt's outcome, status or error, and the delay slept after it."""
    transport = ScriptedTransport(503, httpx.ConnectError, 200)
    async with AsyncPipelineClient(transport=transport, retry_policy=RetryConfig(jitter=0)) as client:
        response = await client.get("http://127.0.0.1/x")
        attempts = history(response)
        assert [(a.number, a.outcome, a.status, a.error, a.delay) for a in attempts] == [
            (1, "rejected", 503, None, 0.8),
            (2, "not_sent", None, "ConnectError", 1.6),
            (3, "success", 200, None, 0.0),
        ]
    async with AsyncPipelineClient(retry_policy=RetryConfig(total=1, jitter=0)) as client:
        with pytest.raises(httpx.ConnectError) as info:
            await client.get(closed_port_url())
    assert [(a.outcome, a.error, a.delay) for a in history(info.value)] == [
        ("not_sent", "ConnectError", 0.8),
        ("not_sent", "ConnectError", 0.0),
    ]


@pytest.mark.anyio
async def test_caps_per_failure_kind(clock: VirtualClock) -> None:
    """`status=1` allows one status retry within `total`; the second 503 is returned."""
    transport = ScriptedTransport(503, 503, 200)
    async with AsyncPipelineClient(transport=transport, retry_policy=RetryPolicy(retry_status=1)) as client:
        response = await client.get("http://127.0.0.1/x")
    assert response.status_code == 503
    assert transport.calls == 2


@pytest.mark.anyio
async def test_log_lines_are_the_reference_pages(
    server: Server, clock: VirtualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """INFO on pipework.retry: "Retry attempt 1 for request [GET] <url>", "Waiting 0.8 seconds before retry"."""
    url, app = server
    path = app.script(503, 200)
    caplog.set_level(logging.INFO, logger="pipework.retry")
    async with AsyncPipelineClient(url, retry_policy=RetryConfig(jitter=0)) as client:
        await client.get(path, params={"sig": "s3cr3t", "page": "2"})
    lines = [(r.name, r.levelno, r.getMessage()) for r in caplog.records if r.name == "pipework.retry"]
    assert lines == [
        (
            "pipework.retry",
            logging.INFO,
            f"Retry attempt 1 for request [GET] {url}{path}?sig=REDACTED&page=2",
        ),
        ("pipework.retry", logging.INFO, "Waiting 0.8 seconds before retry"),
    ]
    assert "s3cr3t" not in caplog.text


@pytest.mark.anyio
async def test_give_up_logs_a_warning(
    server: Server, clock: VirtualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """When retries run out, one WARNING says so and why (URL redacted)."""
    url, app = server
    path = app.script(500)
    caplog.set_level(logging.INFO, logger="pipework.retry")
    async with AsyncPipelineClient(url, retry_policy=RetryConfig(jitter=0, total=2)) as client:
        await client.get(path, params={"token": "t0ken"})
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"Giving up on request [GET] {url}{path}?token=REDACTED after 3 attempt(s): retries exhausted (total=2)"
    ]
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.INFO][-1] == (
        "Waiting 1.6 seconds before retry"
    )
    assert "t0ken" not in caplog.text


@pytest.mark.anyio
async def test_cancellation_is_not_retried(clock: VirtualClock) -> None:
    """A call cancelled mid-attempt stops there: the cancellation is never taken for a failure to retry."""

    async def hang(request: httpx.Request) -> httpx.Response:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    transport = ScriptedTransport(503, hang, 200)
    async with AsyncPipelineClient(transport=transport) as client:
        with anyio.move_on_after(0.2) as scope:
            await client.get("http://127.0.0.1/x")
    assert scope.cancelled_caught
    assert transport.calls == 2
    assert len(clock.sleeps) == 1


@pytest.mark.anyio
async def test_per_call_override_holds_on_every_redirect_hop(server: Server, clock: VirtualClock) -> None:
    """`retry=` governs the attempts of each hop of a redirected call; history spans the hops."""
    url, app = server
    target = app.script(503, 503, 200)
    start = app.script(503, (302, {"Location": target}))
    override = RetryConfig(total=2, mode="fixed", backoff_factor=0.1, jitter=0)
    async with AsyncPipelineClient(url, retry_policy=RetryConfig.disabled()) as client:
        response = await client.get(start, retry=override)
    assert response.status_code == 200
    assert (app.count(start), app.count(target)) == (2, 3)
    assert clock.sleeps == [0.1, 0.1, 0.1]
    assert [a.status for a in history(response)] == [503, 302, 503, 503, 200]
    assert [a.number for a in history(response)] == [1, 2, 3, 4, 5]


class _BrokenBudget:
    """A retry budget whose withdrawal fails: the retry decision itself raises."""

    def deposit(self, request: httpx.Request) -> None:
        pass

    def try_withdraw(self, request: httpx.Request) -> bool:
        raise RuntimeError("budget store unreachable")


@pytest.mark.anyio
async def test_an_attempt_is_recorded_even_when_the_retry_decision_raises(clock: VirtualClock) -> None:
    """The 503 whose retry decision broke is still in the call's history (no note, no delay), and not retried."""
    transport = ScriptedTransport(503, 200)
    policy = RetryPolicy(budget=_BrokenBudget())  # type: ignore[arg-type]
    async with AsyncPipelineClient(transport=transport, retry_policy=policy) as client:
        with pytest.raises(RuntimeError, match="budget store unreachable"):
            await client.get("http://h.test/x")
    assert transport.calls == 1
    [record] = history(transport.requests[0])
    assert (record.number, record.status, record.outcome) == (1, 503, "rejected")
    assert (record.note, record.delay) == (None, 0)
