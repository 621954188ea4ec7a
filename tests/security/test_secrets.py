"""No secret leaks: every policy at DEBUG, tracing on, secrets planted; none shows in logs, spans, errors, reprs, CLI.

Planted: a bearer token, an API key, a SAS signature, proxy credentials, request cookies and a Set-Cookie.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest

from pipework import (
    AccessToken,
    AdaptiveThrottlePolicy,
    AsyncPipelineClient,
    BearerTokenPolicy,
    BulkheadPolicy,
    CircuitBreakerPolicy,
    KeyCredential,
    KeyCredentialPolicy,
    ObservabilityHooks,
    RetryBudget,
    RetryConfig,
    RetryPolicy,
    SasCredential,
    SasCredentialPolicy,
    history,
)
from pipework.testing import serve
from tests.observability.conftest import Otel
from tests.transports._forward_proxy import forward_proxy

TOKEN = "tokSECRETbearer7f3a"
API_KEY = "keySECRETapi91bc"
SIGNATURE = "sigSECRETsas42"
SAS = f"sv=2024-01-01&sp=r&sig={SIGNATURE}"
PROXY_PASSWORD = "proxySECRETpass55"
COOKIE = "cookieSECRETsession"
SET_COOKIE = "setcookieSECRETserver99"
SECRETS = (TOKEN, API_KEY, SIGNATURE, PROXY_PASSWORD, COOKIE, SET_COOKIE)


def leaks(text: str) -> list[str]:
    """The planted secrets found in `text`."""
    return [secret for secret in SECRETS if secret in text]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """/flaky: 503 then 200 with Set-Cookie; /challenge: 401 Bearer then 200; /loop: redirects to itself;
    /hang: never answers; /start: 302 to /flaky."""
    if scope["type"] != "http":
        return
    path, query = scope["path"], scope["query_string"].decode()
    headers: list[tuple[bytes, bytes]] = [(b"content-type", b"application/json")]
    status, body = 200, b'{"ok": true}'
    arrivals = app.arrivals  # type: ignore[attr-defined]
    arrivals[path] = arrivals.get(path, 0) + 1
    if path == "/hang":
        with anyio.move_on_after(5):
            while (await receive())["type"] != "http.disconnect":
                pass
        return
    if path == "/start":
        status, headers = 302, [(b"location", f"/flaky?{query}".encode())]
    elif path == "/loop":
        status, headers = 307, [(b"location", f"/loop?{query}".encode())]
    elif path == "/flaky" and arrivals[path] % 2 == 1:
        status, headers = 503, [(b"retry-after-ms", b"1")]
    elif path == "/challenge" and arrivals[path] % 2 == 1:
        status, headers = 401, [(b"www-authenticate", b'Bearer realm="x", error="invalid_token"')]
    headers.append((b"set-cookie", f"sid={SET_COOKIE}; Path=/; HttpOnly".encode()))
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


app.arrivals = {}  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    """The app on loopback."""
    with serve(app) as url:
        yield url


class TokenSource:
    """An async token credential handing out the planted token."""

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(TOKEN, 4_102_444_800)

    def __repr__(self) -> str:
        return "TokenSource()"


class Everything(logging.Handler):
    """Every record of every logger, formatted with its traceback, arguments and extras."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []
        self.formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record) + " " + repr(record.__dict__))


@pytest.fixture
def all_logs() -> Iterator[Everything]:
    """Everything logged, at DEBUG, by pipework, httpx and httpcore."""
    handler = Everything()
    loggers = [logging.getLogger(name) for name in ("pipework", "httpx", "httpcore", "")]
    saved = [(logger, logger.level) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)
    for logger, level in saved:
        logger.setLevel(level)


@pytest.mark.anyio
async def test_no_secret_anywhere(upstream: str, all_logs: Everything) -> None:
    """A full chain through an authenticated proxy, at DEBUG with tracing and hooks: no secret in any output."""
    otel = Otel()
    events: list[Any] = []
    bearer = BearerTokenPolicy(TokenSource(), "scope/.default", enforce_https=False)
    key = KeyCredentialPolicy(KeyCredential(API_KEY), "x-api-key")
    sas = SasCredentialPolicy(SasCredential(SAS))
    resilience = [CircuitBreakerPolicy(), BulkheadPolicy(), AdaptiveThrottlePolicy()]
    retry = RetryPolicy(RetryConfig(backoff_factor=0.001, timeout=1.0), budget=RetryBudget())
    hooks = ObservabilityHooks(on_attempt=events.append, on_retry=events.append, on_giveup=events.append)
    outputs: list[str] = []
    with forward_proxy() as (proxy_url, seen):
        proxy = proxy_url.replace("http://", f"http://user:{PROXY_PASSWORD}@")
        client = AsyncPipelineClient(
            upstream,
            retry_policy=retry,
            per_retry_policies=[*resilience, bearer, key, sas],
            headers={"Cookie": f"session={COOKIE}"},
            proxy=proxy,
            network_trace=True,
            tracing=otel.tracing(),
            hooks=hooks,
        )
        async with client:
            for path in ("/start", "/challenge"):
                response = await client.get(path, params={"sig": SIGNATURE})
                assert response.status_code == 200
                outputs += [repr(response.history), repr(history(response)), str(history(response))]
            for path in ("/loop", "/hang"):
                with pytest.raises(httpx.HTTPError) as caught:
                    await client.get(path)
                error = caught.value
                outputs += [str(error), repr(error), repr(history(error)), str(error.__cause__)]
            outputs += [repr(client), repr(client.pipeline), repr(retry), repr(bearer), repr(key), repr(sas)]
    assert any("proxy-authorization" in h for h in seen.headers)  # the proxy credentials were used
    assert any(SIGNATURE in line for line in seen.lines)  # the SAS really was sent
    spans = [span.to_json() for span in otel.spans()]
    metrics = [repr(otel.metric(name)) for name in ("http.client.request.duration",)]
    assert len(spans) >= 4
    assert len(events) >= 4
    assert any("Retry attempt" in text for text in all_logs.texts)  # DEBUG/INFO records were written
    for text in [*all_logs.texts, *spans, *metrics, *map(repr, events), *outputs]:
        assert leaks(text) == [], text


def test_cli_output_has_no_secret(upstream: str) -> None:
    """`pipework get -v -H 'Authorization: Bearer …' -H 'Cookie: …' URL?sig=…`: no secret on stdout or stderr."""
    runs = []
    for extra, path in (([], "/flaky"), (["--json"], "/flaky"), ([], "/loop"), (["--json"], "/loop")):
        command = [
            sys.executable, "-m", "pipework.cli", "get", f"{upstream}{path}?sig={SIGNATURE}&code=x", "-v",
            "-H", f"Authorization: Bearer {TOKEN}", "-H", f"x-api-key: {API_KEY}", "-H", f"Cookie: s={COOKIE}",
            "--backoff", "0.001", "--timeout", "5", *extra,
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        runs.append(done)
        assert leaks(done.stdout + done.stderr) == [], done.stdout + done.stderr
    assert runs[0].returncode == 0
    assert "Retry attempt" in runs[0].stderr  # -v really showed the log
    assert runs[2].returncode != 0
    assert "redirect" in runs[2].stderr.lower()
