"""HttpxAuthPolicy: httpx's Basic and Digest auth (with its 401 round trip) and a custom flow, in the chain."""

from __future__ import annotations

from collections.abc import Generator

import httpx
import pytest

from pipework import ConfigurationError, HttpxAuthPolicy, Pipeline

from .conftest import MARKER, Wire

pytestmark = pytest.mark.anyio

DIGEST_CHALLENGE = httpx.Response(
    401,
    headers={
        "WWW-Authenticate": 'Digest realm="r@test", qop="auth", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", '
        'opaque="5ccc069c403ebaf9f0171e9517f40e41", algorithm=MD5'
    },
)


async def test_basic_auth_header_on_the_wire() -> None:
    """httpx.BasicAuth sets the Authorization header on the request sent."""
    transport = Wire(200)
    policy = HttpxAuthPolicy(httpx.BasicAuth("user", f"{MARKER}-pw"))
    await Pipeline(transport, [policy]).handle_async_request(httpx.Request("GET", "https://a.test/"))
    expected = httpx.BasicAuth("user", f"{MARKER}-pw")._auth_header
    assert transport.requests[0].headers["authorization"] == expected


async def test_digest_challenge_round_trip() -> None:
    """httpx.DigestAuth answers the server's 401 challenge with a Digest Authorization, and gets the 200."""
    authorizations: list[str | None] = []

    def check(request: httpx.Request) -> int:
        authorizations.append(request.headers.get("authorization"))
        return 200

    transport = Wire(DIGEST_CHALLENGE, check)
    policy = HttpxAuthPolicy(httpx.DigestAuth("user", f"{MARKER}-pw"))
    request = httpx.Request("GET", "https://a.test/dir/index.html", extensions={"pipework": "ctx"})
    response = await Pipeline(transport, [policy]).handle_async_request(request)
    assert response.status_code == 200
    assert transport.calls == 2
    assert authorizations[0] is not None
    assert authorizations[0].startswith('Digest username="user", realm="r@test"')
    assert MARKER not in authorizations[0]


async def test_flow_building_new_requests_keeps_call_extensions() -> None:
    """A flow that yields a new request gets the call's extensions (timeout, call context) on it."""

    class Redirecting(httpx.Auth):
        def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
            response = yield request
            if response.status_code == 401:
                yield httpx.Request("GET", "https://a.test/token-refreshed")

    transport = Wire(401, 200)
    request = httpx.Request("GET", "https://a.test/", extensions={"pipework": "ctx"})
    response = await Pipeline(transport, [HttpxAuthPolicy(Redirecting())]).handle_async_request(request)
    assert response.status_code == 200
    assert transport.requests[1].extensions["pipework"] == "ctx"
    assert transport.urls[1] == "https://a.test/token-refreshed"


def test_bad_auth_and_repr() -> None:
    """Non-httpx.Auth objects are refused; the repr names the auth type only."""
    with pytest.raises(ConfigurationError, match="auth"):
        HttpxAuthPolicy(("user", "pw"))  # type: ignore[arg-type]
    text = repr(HttpxAuthPolicy(httpx.BasicAuth("user", f"{MARKER}-pw")))
    assert text == "HttpxAuthPolicy(auth=BasicAuth)"
