"""Proxies end to end: a real forwarding proxy on loopback records what the client sends through it."""

from __future__ import annotations

import base64
import json
import logging
import socket
from collections.abc import Iterator

import httpx
import pytest

from pipework import AsyncPipelineClient, ConfigurationError, RetryPolicy
from pipework.pipeline import CallNext
from pipework.testing import serve
from tests.pipeline._redirect_app import RedirectApp

from ._forward_proxy import Seen, forward_proxy

pytestmark = pytest.mark.anyio

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "REQUEST_METHOD")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy variable from the machine leaks into these tests."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    """The origin server behind the proxy."""
    with serve(RedirectApp()) as url:
        yield url


@pytest.fixture
def proxy() -> Iterator[tuple[str, Seen]]:
    """A fresh forwarding proxy per test."""
    with forward_proxy() as running:
        yield running


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_explicit_proxy_gets_absolute_form_and_credentials(
    upstream: str, proxy: tuple[str, Seen], caplog: pytest.LogCaptureFixture
) -> None:
    """proxy= sends http requests in absolute form with Proxy-Authorization; the password shows nowhere."""
    proxy_url, seen = proxy
    with_auth = proxy_url.replace("http://", "http://user:hunter2@")
    caplog.set_level(logging.DEBUG)
    async with AsyncPipelineClient(proxy=with_auth) as client:
        response = await client.get(f"{upstream}/echo?x=1")
        shown = repr(client)
    assert response.status_code == 200
    assert seen.lines == [f"GET {upstream}/echo?x=1 HTTP/1.1"]
    assert seen.headers[0]["proxy-authorization"] == "Basic " + base64.b64encode(b"user:hunter2").decode()
    assert "proxy-authorization" not in json.loads(response.content)["headers"]
    assert "hunter2" not in shown
    assert "hunter2" not in caplog.text


async def test_environment_proxy_is_read_once(
    upstream: str, proxy: tuple[str, Seen], monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP_PROXY is honoured, and read when the client is built: a later change does not reroute it."""
    proxy_url, seen = proxy
    monkeypatch.setenv("HTTP_PROXY", proxy_url)
    async with AsyncPipelineClient() as client:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")
        monkeypatch.setenv("NO_PROXY", "*")
        first = await client.get(f"{upstream}/echo/1")
        second = await client.get(f"{upstream}/echo/2")
    assert (first.status_code, second.status_code) == (200, 200)
    assert seen.lines == [f"GET {upstream}/echo/1 HTTP/1.1", f"GET {upstream}/echo/2 HTTP/1.1"]


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "127.0.0.0/8", "*"])
async def test_no_proxy_goes_direct(
    upstream: str, proxy: tuple[str, Seen], monkeypatch: pytest.MonkeyPatch, no_proxy: str
) -> None:
    """A NO_PROXY entry matching the host (name, CIDR or *) sends the request straight to the server."""
    proxy_url, seen = proxy
    monkeypatch.setenv("HTTP_PROXY", proxy_url)
    monkeypatch.setenv("NO_PROXY", no_proxy)
    async with AsyncPipelineClient() as client:
        response = await client.get(f"{upstream}/echo")
    assert response.status_code == 200
    assert seen.lines == []


async def test_trust_env_false_ignores_the_environment(
    upstream: str, proxy: tuple[str, Seen], monkeypatch: pytest.MonkeyPatch
) -> None:
    """trust_env=False never uses HTTP_PROXY."""
    proxy_url, seen = proxy
    monkeypatch.setenv("HTTP_PROXY", proxy_url)
    async with AsyncPipelineClient(trust_env=False) as client:
        assert (await client.get(f"{upstream}/echo")).status_code == 200
    assert seen.lines == []


async def test_https_goes_through_a_connect_tunnel(
    proxy: tuple[str, Seen], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An https URL asks HTTPS_PROXY for a CONNECT tunnel to host:port (refused here: a ProxyError)."""
    proxy_url, seen = proxy
    monkeypatch.setenv("HTTPS_PROXY", proxy_url)
    async with AsyncPipelineClient(retry_policy=RetryPolicy(retry_total=0)) as client:
        with pytest.raises(httpx.ProxyError):
            await client.get("https://127.0.0.1:9/secure")
    assert seen.lines == ["CONNECT 127.0.0.1:9 HTTP/1.1"]


async def test_every_hop_runs_the_whole_chain_through_the_proxy(
    upstream: str, proxy: tuple[str, Seen]
) -> None:
    """A redirected call sends each hop through the proxy, and each hop through every policy."""
    proxy_url, seen = proxy
    hops: list[str] = []

    async def record(request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
        hops.append(request.url.path)
        return await call_next(request)

    async with AsyncPipelineClient(proxy=proxy_url, per_retry_policies=[record]) as client:
        response = await client.get(f"{upstream}/to?status=302&location=%2Fecho%2Fdone")
    assert response.status_code == 200
    assert hops == ["/to", "/echo/done"]
    assert [line.split()[1] for line in seen.lines] == [
        f"{upstream}/to?status=302&location=%2Fecho%2Fdone",
        f"{upstream}/echo/done",
    ]


async def test_unreachable_proxy_error_hides_the_password(caplog: pytest.LogCaptureFixture) -> None:
    """A proxy that refuses connections raises a ConnectError whose text and logs hold no password."""
    caplog.set_level(logging.DEBUG)
    proxy_url = f"http://user:hunter2@127.0.0.1:{closed_port()}"
    async with AsyncPipelineClient(proxy=proxy_url, retry_policy=RetryPolicy(retry_total=0)) as client:
        with pytest.raises(httpx.ConnectError) as caught:
            await client.get("http://example.invalid/")
    assert "hunter2" not in str(caught.value)
    assert "hunter2" not in repr(caught.value)
    assert "hunter2" not in caplog.text


def test_bad_proxy_argument_is_named_and_redacted() -> None:
    """proxy= with an unusable scheme raises ConfigurationError naming proxy, password redacted."""
    with pytest.raises(ConfigurationError, match="proxy") as caught:
        AsyncPipelineClient(proxy="ftp://user:hunter2@proxy.test:21")
    assert "hunter2" not in str(caught.value)
