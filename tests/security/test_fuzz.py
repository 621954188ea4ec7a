"""Fuzzing (hypothesis): whatever a server or a user's configuration says, nothing crashes and no wait breaks its caps.

Retry-After and the ms headers, WWW-Authenticate challenges, Location headers, proxy URLs and NO_PROXY lists,
RetryConfig inputs (dicts, keywords and environment variables). Derandomized by default (see EXPLORE).
"""

from __future__ import annotations

import email.utils
import math
import os
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from pipework import (
    AccessToken,
    AsyncPipelineClient,
    BearerTokenPolicy,
    ConfigurationError,
    RetryConfig,
    RetryPolicy,
    TooManyRedirectsError,
)
from pipework.auth._challenge import claims_from_challenges, parse_challenges
from pipework.pipeline.retry import backoff, plan_retry, server_wait
from pipework.testing import ScriptedTransport, zero_wait
from pipework.transports._proxy import NoProxy, environment_proxies, proxy_router_from_environment

# The same examples on every run (a test run, CI included, passes or fails on the code alone);
# PIPEWORK_FUZZ=explore draws new ones each time, five times as many, to look for new failures.
EXPLORE = os.environ.get("PIPEWORK_FUZZ") == "explore"
FAST = settings(
    max_examples=750 if EXPLORE else 150,
    deadline=None,
    derandomize=not EXPLORE,
    suppress_health_check=[HealthCheck.too_slow],
)
ASYNC = settings(
    max_examples=200 if EXPLORE else 40,
    deadline=None,
    derandomize=not EXPLORE,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

numbers = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["1e308", "-1e308", "nan", "inf", "-inf", " 5 ", "0", "-0", "0x10", "1_000", "١٢"]),
)
http_dates = st.datetimes().map(lambda moment: email.utils.format_datetime(moment) + " GMT")
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)
wait_values = st.one_of(numbers, http_dates, header_text)
WAIT_HEADERS = ("retry-after", "retry-after-ms", "x-ms-retry-after-ms")
wait_headers = st.dictionaries(st.sampled_from(WAIT_HEADERS), wait_values, max_size=3)

CONFIG = RetryConfig(total=3, backoff_factor=0.5, backoff_max=2.0, retry_after_max=5.0, timeout=30.0)


@FAST
@given(headers=st.dictionaries(st.sampled_from(WAIT_HEADERS), st.one_of(wait_values, st.text()), max_size=3))
def test_server_wait_never_raises(headers: dict[str, str]) -> None:
    """server_wait: None or a finite positive number of seconds, whatever the headers hold."""
    wait = server_wait(headers, 1_700_000_000.0)
    assert wait is None or (math.isfinite(wait) and wait > 0)


@FAST
@given(
    headers=wait_headers, retry=st.integers(0, 2000), remaining=st.floats(0, 1e6), draw=st.floats(0, 0.999)
)
def test_planned_wait_within_caps(headers: dict[str, str], retry: int, remaining: float, draw: float) -> None:
    """plan_retry never plans a wait beyond retry_after_max/backoff_max or past the time left."""
    delay, why = plan_retry(CONFIG, retry, headers, remaining, 1_700_000_000.0, draw=lambda: draw)
    assert isinstance(why, str)
    if delay is not None:
        assert 0 <= delay < remaining
        assert delay <= max(CONFIG.retry_after_max, CONFIG.backoff_max)


@pytest.mark.anyio
@ASYNC
@given(headers=wait_headers, status=st.sampled_from([429, 500, 503, 418, 404]))
async def test_retry_policy_sleeps_within_caps(headers: dict[str, str], status: int) -> None:
    """Through the client: a server's wait headers never make the policy sleep past its caps or raise."""
    raw = [(name.encode(), value.encode()) for name, value in headers.items()]  # any bytes on the wire
    transport = ScriptedTransport(httpx.Response(status, headers=raw), repeat_last=True)
    with zero_wait() as clock:
        async with AsyncPipelineClient(transport=transport, retry_policy=CONFIG) as client:
            response = await client.get("http://service.test/")
    assert response.status_code == status
    assert all(0 <= wait <= max(CONFIG.retry_after_max, CONFIG.backoff_max) for wait in clock.sleeps)
    assert sum(clock.sleeps) <= CONFIG.timeout
    assert transport.calls <= CONFIG.total + 1


# WWW-Authenticate
token68 = st.text(st.sampled_from("ABCDEFabcdef0123456789-._~+/="), max_size=20)
param = st.tuples(
    st.sampled_from(["realm", "error", "claims", "scope", "authorization_uri", "x"]),
    st.one_of(token68, header_text.map(lambda text: '"' + text.replace('"', '\\"') + '"'), header_text),
).map(lambda pair: f"{pair[0]}={pair[1]}")
challenge = st.tuples(
    st.sampled_from(["Bearer", "bearer", "Basic", "Digest", "Negotiate", "PoP", ""]),
    st.lists(param, max_size=4),
).map(lambda pair: (pair[0] + " " + ", ".join(pair[1])).strip())
challenges = st.one_of(st.lists(challenge, max_size=3).map(", ".join), header_text, st.text())


@FAST
@given(values=st.lists(challenges, max_size=3))
def test_challenge_parser_never_raises(values: list[str]) -> None:
    """parse_challenges/claims_from_challenges accept any header text."""
    parsed = parse_challenges(values)
    for scheme, params in parsed:
        assert scheme == scheme.lower()
        assert isinstance(params, dict)
    claims = claims_from_challenges(parsed)
    assert claims is None or isinstance(claims, str)


class CountingCredential:
    """A token credential that accepts claims and counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls += 1
        return AccessToken(f"token-{self.calls}", 4_102_444_800)


@pytest.mark.anyio
@ASYNC
@given(value=st.lists(challenge, min_size=1, max_size=3).map(", ".join))
async def test_bearer_policy_answers_any_challenge(value: str) -> None:
    """A 401 with any WWW-Authenticate: at most one resend, never an exception."""
    credential = CountingCredential()
    policy = BearerTokenPolicy(credential, "scope", enforce_https=False)
    transport = ScriptedTransport(httpx.Response(401, headers={"WWW-Authenticate": value}), 200)
    async with AsyncPipelineClient(transport=transport, per_retry_policies=[policy]) as client:
        response = await client.get("http://service.test/")
    assert response.status_code in (200, 401)
    assert transport.calls <= 2
    assert credential.calls <= 2


# Location
schemes = st.sampled_from(
    [
        "",
        "http:",
        "https:",
        "HTTP:",
        "javascript:",
        "file:",
        "data:",
        "ftp:",
        "ws:",
        "mailto:",
        "//",
        "\\\\",
        " h",
    ]
)
location_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
locations = st.one_of(
    st.tuples(schemes, location_text).map("".join),
    st.binary(max_size=40).filter(lambda raw: b"\r" not in raw and b"\n" not in raw),
)


@pytest.mark.anyio
@ASYNC
@given(location=locations, status=st.sampled_from([301, 302, 303, 307, 308]))
async def test_redirects_only_to_http_or_https(location: str | bytes, status: int) -> None:
    """Whatever the Location, the next request (if any) is http or https; errors are httpx's own."""
    raw = location if isinstance(location, bytes) else location.encode()
    transport = ScriptedTransport(httpx.Response(status, headers=[(b"location", raw)]), 200, repeat_last=True)
    client = AsyncPipelineClient(transport=transport, retry_policy=RetryConfig(total=0))
    try:
        response = await client.post("https://service.test/a/b?c=d", content=b"body")
    except (httpx.RemoteProtocolError, TooManyRedirectsError):
        pass
    else:
        assert response.status_code in (200, status)
    await client.aclose()
    assert all(request.url.scheme in ("http", "https") for request in transport.requests)
    assert all(request.url.host for request in transport.requests)


# Proxies
hosts = st.one_of(
    st.sampled_from(["example.com", ".example.com", "*.example.com", "10.0.0.0/8", "[::1]:8080", "::1", "*"]),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30),
)
no_proxy_lists = st.one_of(st.lists(hosts, max_size=5).map(",".join), st.text(max_size=60))
proxy_urls = st.one_of(
    st.tuples(
        st.sampled_from(["http://", "https://", "socks5://", "ftp://", "", "://", "http://user:s3cr3t-pw@"]),
        st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30),
    ).map("".join),
    st.text(max_size=40),
)
url_hosts = st.one_of(
    st.sampled_from(["example.com", "a.example.com", "10.1.2.3", "[::1]", "[fe80::1]", "localhost", "x"]),
    st.from_regex(r"[a-z]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z][a-z0-9]{0,7}){0,3}", fullmatch=True),
)


@FAST
@given(entries=no_proxy_lists, host=url_hosts, port=st.one_of(st.none(), st.integers(1, 65535)))
def test_no_proxy_lists_never_raise(entries: str, host: str, port: int | None) -> None:
    """NoProxy accepts any list and answers for any URL."""
    no_proxy = NoProxy(entries)
    url = httpx.URL(f"http://{host}" + (f":{port}" if port else "") + "/")
    assert isinstance(no_proxy.matches(url), bool)
    assert isinstance(repr(no_proxy), str)


@FAST
@given(https=proxy_urls, http=proxy_urls, entries=no_proxy_lists)
def test_proxy_environment_never_raises_unexpectedly(https: str, http: str, entries: str) -> None:
    """Any HTTPS_PROXY/HTTP_PROXY/NO_PROXY: a router, None, or a ConfigurationError that hides passwords."""
    environ = {"HTTPS_PROXY": https, "http_proxy": http, "NO_PROXY": entries}
    shown = ""
    try:
        environment_proxies(environ)
        router = proxy_router_from_environment(lambda proxy: httpx.AsyncHTTPTransport(proxy=proxy), environ)
        shown = repr(router)
    except ConfigurationError as exc:
        shown = str(exc)
    except ImportError as exc:  # a socks5:// proxy without httpx[socks]: httpx's own clear message
        shown = str(exc)
        assert "socksio" in shown
    assert "s3cr3t-pw" not in shown


# RetryConfig inputs
anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10),
    st.lists(st.integers(-1000, 1000), max_size=4),
    st.sampled_from(["full", "fixed", "exponential", "429,503", "[500]"]),
)
FIELDS = list(RetryConfig.model_fields)


@FAST
@given(values=st.dictionaries(st.sampled_from([*FIELDS, "bogus"]), anything, max_size=6))
def test_retry_config_from_any_dict(values: dict[str, Any]) -> None:
    """RetryConfig from any dict: a valid config whose computed waits stay within backoff_max, or a ValidationError."""
    try:
        config = RetryConfig(**values)
    except ValidationError:
        return
    for retry in (0, 1, 5, 63, 64, 1100):
        for draw in (0.0, 0.5, 0.999999):
            delay = backoff(config, retry, draw)
            assert 0 <= delay <= config.backoff_max


@FAST
@given(values=st.dictionaries(st.sampled_from([*FIELDS, "bogus"]), st.text(max_size=12), max_size=6))
def test_retry_config_from_any_environment(values: dict[str, str]) -> None:
    """PIPEWORK_RETRY_* variables: a valid config or a ConfigurationError naming the variable."""
    environ = {f"PIPEWORK_RETRY_{name.upper()}": value for name, value in values.items()}
    try:
        config = RetryConfig.from_env(environ)
    except ConfigurationError as exc:
        message = str(exc)
    else:
        assert backoff(config, 50, 0.999) <= config.backoff_max
        return
    assert "PIPEWORK_RETRY_" in message


KEYWORDS = [
    "retry_total", "retry_connect", "retry_read", "retry_status", "retry_backoff_factor", "retry_backoff_max",
    "retry_mode", "retry_on_status_codes", "retry_jitter", "retry_after_max", "timeout",
]  # fmt: skip


@FAST
@given(values=st.dictionaries(st.sampled_from(KEYWORDS), anything, max_size=4))
def test_retry_policy_keywords(values: dict[str, Any]) -> None:
    """RetryPolicy(retry_*=...): a policy, or a ConfigurationError naming a keyword argument."""
    try:
        RetryPolicy(**values)
    except ConfigurationError as exc:
        message = str(exc)
    else:
        return
    assert any(keyword in message for keyword in KEYWORDS)
