"""AsyncPipelineClient(credential=..., scopes=...): the policy picked from the credential's type."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pipework import (
    AsyncPipelineClient,
    BearerTokenPolicy,
    ConfigurationError,
    HttpxAuthPolicy,
    InsecureTransportError,
    KeyCredential,
    KeyCredentialPolicy,
    SasCredential,
    SasCredentialPolicy,
    StaticTokenCredential,
)
from pipework.auth import policy_for_credential

from .conftest import MARKER, ScriptedCredential, SyncCredential, Wire

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("credential", "scopes", "kind"),
    [
        (StaticTokenCredential("t"), ["s/.default"], BearerTokenPolicy),
        (SyncCredential(), [], BearerTokenPolicy),
        (KeyCredential("k"), [], KeyCredentialPolicy),
        (SasCredential("sig=x"), [], SasCredentialPolicy),
        (httpx.BasicAuth("u", "p"), [], HttpxAuthPolicy),
    ],
)
def test_policy_chosen_by_credential_type(credential: Any, scopes: list[str], kind: type) -> None:
    """Token credentials get a BearerTokenPolicy, keys a KeyCredentialPolicy, and so on."""
    policy = policy_for_credential(credential, scopes)
    assert isinstance(policy, kind)
    if isinstance(policy, BearerTokenPolicy):
        assert policy.scopes == tuple(scopes)


def test_no_credential_no_auth_policy() -> None:
    """Without a credential the default chain has no authentication policy."""
    assert policy_for_credential(None) is None
    names = repr(AsyncPipelineClient(transport=Wire(200)).pipeline)
    assert "TokenPolicy" not in names
    assert "Credential" not in names


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"credential": "a-token-string"}, "credential"),
        ({"credential": object()}, "credential"),
        ({"credential": StaticTokenCredential("t"), "scopes": "https://s/.default"}, "scopes"),
        ({"credential": KeyCredential("k"), "scopes": ["s"]}, "scopes"),
    ],
)
def test_bad_credential_or_scopes_named(kwargs: dict[str, Any], name: str) -> None:
    """A credential of no known type, or scopes given as one str, fail at construction naming the argument."""
    with pytest.raises(ConfigurationError, match=name):
        AsyncPipelineClient(transport=Wire(200), **kwargs)


async def test_client_sends_bearer_token_with_scopes(clock: object) -> None:
    """The client's token credential is asked for the client's scopes once; requests carry the token."""
    credential = ScriptedCredential()
    transport = Wire(200, repeat_last=True)
    async with AsyncPipelineClient(
        "https://api.test", credential=credential, scopes=["api://x/.default"], transport=transport
    ) as client:
        await client.get("/a")
        await client.get("/b")
    assert credential.calls == [(("api://x/.default",), {})]
    assert transport.tokens == [f"{MARKER}-tok-1"] * 2
    assert MARKER not in repr(client)


async def test_client_token_over_http_refused_not_retried(clock: object) -> None:
    """Over http the client raises InsecureTransportError at once: no token fetched, no attempt, no retry."""
    credential = ScriptedCredential()
    transport = Wire(200)
    async with AsyncPipelineClient("http://api.test", credential=credential, transport=transport) as client:
        with pytest.raises(InsecureTransportError):
            await client.get("/a")
    assert credential.calls == []
    assert transport.calls == 0


async def test_client_key_credential_goes_in_authorization(clock: object) -> None:
    """A KeyCredential passed to the client is sent as the Authorization header (the documented default)."""
    transport = Wire(200)
    async with AsyncPipelineClient(credential=KeyCredential(f"{MARKER}-k"), transport=transport) as client:
        await client.get("https://api.test/")
    assert transport.requests[0].headers["authorization"] == f"{MARKER}-k"
