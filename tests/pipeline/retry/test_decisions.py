"""The retry decision as pure functions: table-driven tests and property tests."""

from __future__ import annotations

import datetime
import email.utils
import time
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipework import ConfigurationError, DeadlineExceededError
from pipework.pipeline.retry import (
    RetryConfig,
    backoff,
    classify_error,
    classify_response,
    may_retry,
    plan_retry,
    server_wait,
)

REQUEST = httpx.Request("GET", "http://127.0.0.1/")
DEFAULT = RetryConfig()


def _date(seconds_from_now: float) -> str:
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


@pytest.mark.parametrize(
    ("status", "headers", "config", "expected"),
    [
        (200, {}, DEFAULT, "success"),
        (201, {}, DEFAULT, "success"),
        (301, {}, DEFAULT, "success"),
        (400, {}, DEFAULT, "success"),
        (404, {}, DEFAULT, "success"),
        (409, {}, DEFAULT, "success"),
        (408, {}, DEFAULT, "rejected"),
        (429, {}, DEFAULT, "rejected"),
        (500, {}, DEFAULT, "rejected"),
        (502, {}, DEFAULT, "rejected"),
        (503, {}, DEFAULT, "rejected"),
        (504, {}, DEFAULT, "rejected"),
        (501, {}, DEFAULT, "success"),
        (505, {}, DEFAULT, "success"),
        (400, {"Retry-After": "1"}, DEFAULT, "rejected"),
        (404, {"x-ms-retry-after-ms": "100"}, DEFAULT, "rejected"),
        (409, {"retry-after-ms": "100"}, DEFAULT, "rejected"),
        (401, {"Retry-After": "1"}, DEFAULT, "success"),
        (403, {"Retry-After": "1"}, DEFAULT, "success"),
        (501, {"Retry-After": "1"}, DEFAULT, "success"),
        (505, {"Retry-After": "1"}, DEFAULT, "success"),
        (200, {"Retry-After": "1"}, DEFAULT, "success"),
        (400, {"Retry-After": "1"}, RetryConfig(respect_retry_after=False), "success"),
        (503, {}, RetryConfig(respect_retry_after=False), "rejected"),
        (418, {}, RetryConfig(status_codes=frozenset({418})), "rejected"),
        (503, {}, RetryConfig(status_codes=frozenset({418})), "success"),
    ],
)
def test_classify_response(status: int, headers: dict[str, str], config: RetryConfig, expected: str) -> None:
    """A status is rejected (worth retrying) only when listed or when the server asked for a wait."""
    assert classify_response(httpx.Response(status, headers=headers), config) == expected


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (httpx.ConnectError("refused", request=REQUEST), "not_sent"),
        (httpx.ConnectTimeout("slow connect", request=REQUEST), "not_sent"),
        (httpx.PoolTimeout("pool", request=REQUEST), "not_sent"),
        (httpx.ProxyError("proxy", request=REQUEST), "not_sent"),
        (httpx.ReadError("reset", request=REQUEST), "unknown"),
        (httpx.ReadTimeout("slow read", request=REQUEST), "unknown"),
        (httpx.WriteError("broken pipe", request=REQUEST), "unknown"),
        (httpx.WriteTimeout("slow write", request=REQUEST), "unknown"),
        (httpx.RemoteProtocolError("disconnected", request=REQUEST), "unknown"),
        (httpx.CloseError("close", request=REQUEST), "unknown"),
        (httpx.LocalProtocolError("bad header", request=REQUEST), "fatal"),
        (httpx.UnsupportedProtocol("ftp", request=REQUEST), "fatal"),
        (httpx.DecodingError("gzip", request=REQUEST), "fatal"),
        (httpx.TooManyRedirects("loop", request=REQUEST), "fatal"),
        (DeadlineExceededError("late", request=REQUEST), "fatal"),
        (ConfigurationError("bad"), "fatal"),
        (ValueError("caller's bug"), "fatal"),
        (KeyError("x"), "fatal"),
    ],
)
def test_classify_error(exc: BaseException, expected: str) -> None:
    """Errors before sending are "not_sent", after sending "unknown", the caller's own "fatal"."""
    assert classify_error(exc) == expected


KEY = {"Idempotency-Key": "abc"}
WAIT = {"Retry-After": "1"}


@pytest.mark.parametrize(
    ("outcome", "method", "request_headers", "status", "response_headers", "expected"),
    [
        ("not_sent", "GET", {}, None, None, True),
        ("not_sent", "POST", {}, None, None, True),
        ("not_sent", "PATCH", {}, None, None, True),
        ("unknown", "GET", {}, None, None, True),
        ("unknown", "head", {}, None, None, True),
        ("unknown", "PUT", {}, None, None, True),
        ("unknown", "DELETE", {}, None, None, True),
        ("unknown", "OPTIONS", {}, None, None, True),
        ("unknown", "TRACE", {}, None, None, True),
        ("unknown", "POST", {}, None, None, False),
        ("unknown", "PATCH", {}, None, None, False),
        ("unknown", "POST", KEY, None, None, True),
        ("unknown", "POST", {"idempotency-key": "abc"}, None, None, True),
        ("rejected", "GET", {}, 500, {}, True),
        ("rejected", "PUT", {}, 503, {}, True),
        ("rejected", "POST", {}, 500, {}, False),
        ("rejected", "POST", {}, 503, {}, False),
        ("rejected", "POST", {}, 503, WAIT, True),
        ("rejected", "PATCH", {}, 429, WAIT, True),
        ("rejected", "POST", {}, 429, {"retry-after-ms": "100"}, True),
        ("rejected", "POST", {}, 500, WAIT, False),
        ("rejected", "POST", {}, 400, WAIT, False),
        ("rejected", "POST", WAIT, 503, {}, False),  # a Retry-After the client sent means nothing
        ("rejected", "POST", KEY, 500, {}, True),
        ("rejected", "PATCH", KEY, 502, {}, True),
        ("success", "GET", {}, 200, {}, False),
        ("fatal", "GET", {}, None, None, False),
        ("fatal", "POST", KEY, None, None, False),
    ],
)
def test_may_retry(
    outcome: Any,
    method: str,
    request_headers: dict[str, str],
    status: int | None,
    response_headers: dict[str, str] | None,
    expected: bool,
) -> None:
    """The outcome and the method decide; POST needs an Idempotency-Key or a 429/503 with Retry-After."""
    assert may_retry(outcome, method, request_headers, status, response_headers) is expected


@pytest.mark.parametrize(
    ("config", "retry_number", "draw", "expected"),
    [
        (RetryConfig(jitter=0), 0, 0.5, 0.8),
        (RetryConfig(jitter=0), 1, 0.5, 1.6),
        (RetryConfig(jitter=0), 2, 0.5, 3.2),
        (RetryConfig(jitter=0), 3, 0.5, 6.4),
        (RetryConfig(jitter=0), 10, 0.5, 60.0),
        (RetryConfig(jitter=0), 10_000, 0.5, 60.0),
        (RetryConfig(jitter=0, backoff_max=2), 5, 0.0, 2.0),
        (RetryConfig(jitter=0, mode="fixed", backoff_factor=0.5), 0, 0.5, 0.5),
        (RetryConfig(jitter=0, mode="fixed", backoff_factor=0.5), 7, 0.5, 0.5),
        (RetryConfig(), 0, 0.0, 0.64),
        (RetryConfig(), 0, 0.5, 0.8),
        (RetryConfig(), 0, 0.999999, 0.96),
        (RetryConfig(jitter="full"), 1, 0.0, 0.0),
        (RetryConfig(jitter="full"), 1, 0.5, 0.8),
        (RetryConfig(jitter=0.5, backoff_max=10), 20, 0.99, 10.0),  # jitter never lifts a delay over the cap
        (RetryConfig(backoff_factor=0, jitter=0), 3, 0.5, 0.0),
    ],
)
def test_backoff(config: RetryConfig, retry_number: int, draw: float, expected: float) -> None:
    """Retry n waits backoff_factor * 2**n (or the factor, fixed), capped, times the jitter draw."""
    assert backoff(config, retry_number, draw) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"Retry-After": "2"}, 2.0),
        ({"retry-after": " 7 "}, 7.0),
        ({"Retry-After": "1.5"}, 1.5),
        ({"Retry-After": "0"}, None),
        ({"Retry-After": "-3"}, None),
        ({"Retry-After": ""}, None),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "nan"}, None),
        ({"Retry-After": "inf"}, None),
        ({"Retry-After": "Wed, 99 Foo 2015 07:28:00 GMT"}, None),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, None),  # in the past
        ({"retry-after-ms": "250"}, 0.25),
        ({"x-ms-retry-after-ms": "1500"}, 1.5),
        ({"X-Ms-Retry-After-Ms": "1500"}, 1.5),
        ({"retry-after-ms": "250", "Retry-After": "9"}, 0.25),
        ({"retry-after-ms": "bad", "Retry-After": "9"}, 9.0),
        ({"retry-after-ms": "0", "Retry-After": "9"}, None),
        ({"retry-after-ms": "5e-324"}, None),  # positive, but 0.0 once in seconds (found by the fuzz test)
    ],
)
def test_server_wait(headers: dict[str, str], expected: float | None) -> None:
    """Retry-After in seconds, the ms headers first; malformed, zero or negative means "use backoff"."""
    assert server_wait(headers, time.time()) == expected
    assert server_wait(httpx.Headers(headers), time.time()) == expected


@pytest.mark.parametrize("seconds", [3, 30, 3600])
def test_server_wait_http_date(seconds: int) -> None:
    """An HTTP-date Retry-After is the time from now until then."""
    now = time.time()
    wait = server_wait({"Retry-After": email.utils.formatdate(now + seconds, usegmt=True)}, now)
    assert wait is not None
    assert seconds - 1 <= wait <= seconds


@pytest.mark.parametrize(
    ("config", "headers", "remaining", "delay", "why"),
    [
        (RetryConfig(jitter=0), None, 100.0, 0.8, "backoff"),
        (RetryConfig(jitter=0), {"Retry-After": "2"}, 100.0, 2.0, "server requested"),
        (RetryConfig(jitter=0), {"Retry-After": "300"}, 1000.0, None, "retry_after_max"),
        (
            RetryConfig(jitter=0, retry_after_max=500),
            {"Retry-After": "300"},
            1000.0,
            300.0,
            "server requested",
        ),
        (RetryConfig(jitter=0), {"Retry-After": "10"}, 5.0, None, "left"),
        (RetryConfig(jitter=0), {"Retry-After": "junk"}, 100.0, 0.8, "backoff"),
        (RetryConfig(jitter=0), {"Retry-After": "0"}, 100.0, 0.8, "backoff"),
        (RetryConfig(jitter=0), None, 0.5, None, "deadline"),
        (RetryConfig(jitter=0), None, 0.8, None, "deadline"),
        (RetryConfig(jitter=0, respect_retry_after=False), {"Retry-After": "2"}, 100.0, 0.8, "backoff"),
        (RetryConfig(jitter=0, respect_retry_after=False), {"Retry-After": "300"}, 100.0, 0.8, "backoff"),
    ],
)
def test_plan_retry(
    config: RetryConfig, headers: dict[str, str] | None, remaining: float, delay: float | None, why: str
) -> None:
    """The server's wait wins within retry_after_max and the time left; no wait ends past the deadline."""
    planned, reason = plan_retry(
        config, 0, httpx.Headers(headers) if headers else None, remaining, time.time()
    )
    assert planned == (pytest.approx(delay) if delay is not None else None)
    assert why in reason


HEADER_NAMES = st.sampled_from(["Retry-After", "retry-after-ms", "x-ms-retry-after-ms"])


@settings(max_examples=300, deadline=None)
@given(headers=st.dictionaries(HEADER_NAMES, st.text(max_size=40)), now=st.floats(0, 4e9))
def test_server_wait_never_raises(headers: dict[str, str], now: float) -> None:
    """Any header text gives None or a positive finite wait, never an exception."""
    wait = server_wait(headers, now)
    assert wait is None or 0 < wait < float("inf")


@settings(max_examples=100, deadline=None)
@given(day=st.datetimes(min_value=datetime.datetime(1970, 1, 2), max_value=datetime.datetime(9999, 1, 1)))
def test_server_wait_any_http_date(day: datetime.datetime) -> None:
    """Any HTTP-date (past or far future) parses without raising."""
    text = email.utils.format_datetime(day.replace(tzinfo=datetime.UTC), usegmt=True)
    wait = server_wait({"Retry-After": text}, time.time())
    assert wait is None or wait > 0


CONFIGS = st.builds(
    RetryConfig,
    total=st.integers(0, 20),
    backoff_factor=st.floats(0, 1e6, allow_nan=False),
    backoff_max=st.floats(0, 1e6, allow_nan=False),
    mode=st.sampled_from(["exponential", "fixed"]),
    jitter=st.one_of(st.floats(0, 1), st.just("full")),
    timeout=st.just(1e9),
    retry_after_max=st.floats(0, 1e6, allow_nan=False),
)


@settings(max_examples=300, deadline=None)
@given(config=CONFIGS, retry_number=st.integers(0, 100_000), draw=st.floats(0, 1, exclude_max=True))
def test_backoff_bounds(config: RetryConfig, retry_number: int, draw: float) -> None:
    """A computed delay is never negative and never above backoff_max."""
    delay = backoff(config, retry_number, draw)
    assert 0 <= delay <= config.backoff_max


@settings(max_examples=300, deadline=None)
@given(
    config=CONFIGS,
    retry_number=st.integers(0, 1000),
    headers=st.one_of(st.none(), st.dictionaries(HEADER_NAMES, st.text(max_size=30))),
    remaining=st.floats(0, 1e7, allow_nan=False),
    draw=st.floats(0, 1, exclude_max=True),
)
def test_plan_retry_bounds(
    config: RetryConfig, retry_number: int, headers: dict[str, str] | None, remaining: float, draw: float
) -> None:
    """A planned delay is never negative, ends before the deadline, and is capped (backoff or server)."""
    delay, why = plan_retry(config, retry_number, headers, remaining, time.time(), lambda: draw)
    assert why
    if delay is not None:
        assert 0 <= delay < remaining
        assert delay <= max(config.backoff_max, config.retry_after_max)
        if why == "backoff":
            assert delay <= config.backoff_max
