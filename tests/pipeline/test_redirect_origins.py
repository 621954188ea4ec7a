"""RedirectPolicy across origins: secrets stripped on a port change, no token for a new origin, no downgrade."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

from pipework import AsyncPipelineClient, RedirectPolicy, context_of
from pipework.pipeline import CallNext, credentials_allowed
from pipework.transports import ScriptedTransport

from ._redirect_app import RedirectApp

pytestmark = pytest.mark.anyio

SECRETS = {
    "Authorization": "Bearer tok",
    "Cookie": "session=abc",
    "Proxy-Authorization": "Basic cHJveHk=",
    "X-Api-Key": "k-123",
    "X-Tenant-Secret-Thing": "marked-by-client",
}


@pytest.fixture(scope="module")
def two() -> Iterator[tuple[str, str]]:
    """Two loopback servers: same host, different ports, so different origins."""
    from pipework.testing import serve

    with serve(RedirectApp()) as first, serve(RedirectApp()) as second:
        yield first, second


def to(base: str, status: int, location: str) -> str:
    """A URL on `base` answering `status` with `location`."""
    return f"{base}/to?status={status}&location={quote(location, safe='')}"


def arrived(response: httpx.Response) -> dict[str, str]:
    """The headers the final server received."""
    headers: dict[str, str] = json.loads(response.content)["headers"]
    return headers


async def bearer(request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
    """A minimal auth policy that asks `credentials_allowed` before adding its token."""
    if credentials_allowed(request):
        request.headers["Authorization"] = "Bearer from-policy"
    return await call_next(request)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_port_change_strips_secret_headers(two: tuple[str, str], status: int) -> None:
    """A hop to another port loses Authorization, Cookie, Proxy-Authorization, API keys and marked headers."""
    first, second = two
    policy = RedirectPolicy(sensitive_headers=["X-Tenant-Secret-Thing"])
    async with AsyncPipelineClient(redirect_policy=policy) as client:
        response = await client.get(
            to(first, status, f"{second}/echo"), headers={**SECRETS, "X-Plain": "kept"}
        )
    seen = arrived(response)
    assert response.status_code == 200
    assert not {name.lower() for name in SECRETS} & seen.keys()
    assert seen["x-plain"] == "kept"
    assert seen["host"] == httpx.URL(second).netloc.decode()


async def test_same_origin_keeps_headers(two: tuple[str, str]) -> None:
    """A hop within the origin keeps every header the caller set."""
    first, _ = two
    policy = RedirectPolicy(sensitive_headers=["X-Tenant-Secret-Thing"])
    async with AsyncPipelineClient(redirect_policy=policy) as client:
        response = await client.get(to(first, 302, "/echo"), headers=SECRETS)
    seen = arrived(response)
    assert {name.lower(): value for name, value in SECRETS.items()}.items() <= seen.items()


async def test_auth_policy_adds_no_token_for_new_origin(two: tuple[str, str]) -> None:
    """An auth policy asking credentials_allowed sends its token to the first origin only."""
    first, second = two
    async with AsyncPipelineClient(per_retry_policies=[bearer]) as client:
        same = await client.get(to(first, 302, "/echo"))
        other = await client.get(to(first, 302, f"{second}/echo"))
        back = await client.get(to(first, 302, to(second, 302, f"{first}/echo")))
    assert arrived(same)["authorization"] == "Bearer from-policy"
    assert "authorization" not in arrived(other)
    assert arrived(back)["authorization"] == "Bearer from-policy"
    ctx = context_of(other)
    assert ctx is not None
    assert ctx.trusted_origins == {first}


async def test_allowed_origin_gets_the_token(two: tuple[str, str]) -> None:
    """An origin the client allows receives the auth policy's token after a redirect."""
    first, second = two
    policy = RedirectPolicy(allowed_origins=[second])
    async with AsyncPipelineClient(redirect_policy=policy, per_retry_policies=[bearer]) as client:
        response = await client.get(to(first, 302, f"{second}/echo"), headers={"Cookie": "c=1"})
    seen = arrived(response)
    assert seen["authorization"] == "Bearer from-policy"
    assert "cookie" not in seen


async def test_https_to_http_is_refused() -> None:
    """An https → http hop is not followed unless allow_insecure; the 3xx is returned."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.scheme == "https":
            return httpx.Response(302, headers={"location": "http://api.test/plain"})
        return httpx.Response(200)

    transport = ScriptedTransport(answer, repeat_last=True)
    async with AsyncPipelineClient(transport=transport) as client:
        refused = await client.get("https://api.test/secure", headers={"Authorization": "Bearer t"})
    assert refused.status_code == 302
    assert transport.calls == 1
    assert refused.next_request is not None
    assert refused.next_request.url.scheme == "http"

    transport = ScriptedTransport(answer, repeat_last=True)
    policy = RedirectPolicy(allow_insecure=True)
    async with AsyncPipelineClient(transport=transport, redirect_policy=policy) as client:
        followed = await client.get("https://api.test/secure", headers={"Authorization": "Bearer t"})
    assert followed.status_code == 200
    assert [str(r.url) for r in transport.requests] == ["https://api.test/secure", "http://api.test/plain"]
    assert "authorization" not in transport.requests[1].headers


async def test_http_to_https_upgrade_is_a_new_origin() -> None:
    """http → https on the same host is followed but is another origin: Authorization is not carried."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.scheme == "http":
            return httpx.Response(301, headers={"location": "https://api.test/x"})
        return httpx.Response(200)

    transport = ScriptedTransport(answer, repeat_last=True)
    async with AsyncPipelineClient(transport=transport) as client:
        response = await client.get("http://api.test/x", headers={"Authorization": "Bearer t"})
    assert response.status_code == 200
    assert "authorization" not in transport.requests[1].headers


async def test_non_http_location_is_not_followed() -> None:
    """A Location with another scheme is returned as is, never sent to the transport."""
    transport = ScriptedTransport(httpx.Response(302, headers={"location": "ftp://files.test/x"}))
    async with AsyncPipelineClient(transport=transport) as client:
        response = await client.get("https://api.test/")
    assert response.status_code == 302
    assert transport.calls == 1
