"""Credentials never follow a redirect to another origin, unless the client allows that origin."""

from __future__ import annotations

import httpx
import pytest

from pipework import AsyncPipelineClient, KeyCredential, StaticTokenCredential
from pipework.pipeline import RedirectPolicy
from pipework.transports import ScriptedTransport

TOKEN = "SECRET-redirect-token"


def hop_then_ok(location: str) -> ScriptedTransport:
    """A 302 to `location`, then a 200."""
    return ScriptedTransport(httpx.Response(302, headers={"Location": location}), 200)


@pytest.mark.anyio
async def test_bearer_token_not_added_for_another_origin() -> None:
    """The first origin gets the token; the origin redirected to gets none."""
    transport = hop_then_ok("https://elsewhere.test/landing")
    credential = StaticTokenCredential(TOKEN)
    async with AsyncPipelineClient(
        "https://api.test", credential=credential, scopes=["api/.default"], transport=transport
    ) as client:
        response = await client.get("/start")
    assert response.status_code == 200
    first, second = transport.requests
    assert first.headers["authorization"] == f"Bearer {TOKEN}"
    assert second.url.host == "elsewhere.test"
    assert "authorization" not in second.headers


@pytest.mark.anyio
async def test_bearer_token_kept_on_the_same_origin() -> None:
    """A redirect within the origin keeps authenticating."""
    transport = hop_then_ok("/moved")
    async with AsyncPipelineClient(
        "https://api.test", credential=StaticTokenCredential(TOKEN), scopes=["s"], transport=transport
    ) as client:
        await client.get("/start")
    assert [r.headers.get("authorization") for r in transport.requests] == [f"Bearer {TOKEN}"] * 2


@pytest.mark.anyio
async def test_allowed_origin_receives_the_token() -> None:
    """An origin the redirect policy allows is authenticated after the hop."""
    transport = hop_then_ok("https://partner.test/landing")
    async with AsyncPipelineClient(
        "https://api.test",
        credential=StaticTokenCredential(TOKEN),
        scopes=["s"],
        transport=transport,
        redirect_policy=RedirectPolicy(allowed_origins=["https://partner.test"]),
    ) as client:
        await client.get("/start")
    assert transport.requests[1].headers["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.anyio
async def test_api_key_not_added_for_another_origin() -> None:
    """A key credential stays with the origin it was meant for."""
    transport = hop_then_ok("https://elsewhere.test/landing")
    async with AsyncPipelineClient(
        "https://api.test", credential=KeyCredential("SECRET-key"), transport=transport
    ) as client:
        await client.get("/start")
    assert transport.requests[0].headers["authorization"] == "SECRET-key"
    assert "authorization" not in transport.requests[1].headers
