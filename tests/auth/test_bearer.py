"""BearerTokenPolicy: caching, refresh, single flight, refresh failures, https, challenges, credentials."""

from __future__ import annotations

import base64
import json
import logging
import threading
from typing import Any, NamedTuple

import anyio
import httpx
import pytest

from pipework import (
    AccessToken,
    AsyncPipelineClient,
    BearerTokenPolicy,
    ConfigurationError,
    InsecureTransportError,
    Pipeline,
    RetryPolicy,
    StaticTokenCredential,
)
from pipework.testing import VirtualClock

from .conftest import MARKER, ScriptedCredential, SyncCredential, Wire

URL = "https://api.test/items"
SCOPE = "https://api.test/.default"

pytestmark = pytest.mark.anyio


def _challenge(claims: dict[str, Any]) -> httpx.Response:
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    header = (
        'Bearer realm="", authorization_uri="https://login.test/authorize", '
        f'error="insufficient_claims", claims="{encoded}"'
    )
    return httpx.Response(401, headers={"WWW-Authenticate": header})


PLAIN_CHALLENGE = httpx.Response(401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


async def _send(pipe: Pipeline, url: str = URL, **kwargs: Any) -> httpx.Response:
    return await pipe.handle_async_request(httpx.Request("GET", url, **kwargs))


async def test_token_cached_across_calls(clock: VirtualClock, caplog: pytest.LogCaptureFixture) -> None:
    """Five calls make one get_token call, and every request carries that token (and a DEBUG line says so)."""
    credential = ScriptedCredential()
    transport = Wire(200, repeat_last=True)
    pipe = Pipeline(transport, [BearerTokenPolicy(credential, SCOPE)])
    for _ in range(5):
        assert (await _send(pipe)).status_code == 200
    assert len(credential.calls) == 1
    assert credential.calls[0] == ((SCOPE,), {})
    assert transport.tokens == [f"{MARKER}-tok-1"] * 5
    acquired = [r for r in caplog.records if r.name == "pipework.auth" and r.levelno == logging.DEBUG]
    assert len(acquired) == 1  # the no-secret-in-logs check (conftest) sees the auth records


async def test_expiring_token_refreshed(clock: VirtualClock) -> None:
    """A token is kept until it is within the refresh window of expiry, then replaced."""
    credential = ScriptedCredential(3600)
    transport = Wire(200, repeat_last=True)
    pipe = Pipeline(transport, [BearerTokenPolicy(credential, SCOPE, refresh_window=300)])
    await _send(pipe)
    clock.advance(3600 - 330 - 1)  # before the earliest refresh time (window + the largest spread)
    await _send(pipe)
    assert len(credential.calls) == 1
    clock.advance(331 - 100)  # 100 s before expiry: inside the window
    await _send(pipe)
    assert len(credential.calls) == 2
    assert transport.tokens == [f"{MARKER}-tok-1"] * 2 + [f"{MARKER}-tok-2"]


@pytest.mark.parametrize(
    ("token", "reused_at", "refetched_at"),
    [
        # a token's refresh_on triggers the refresh long before the expiry window
        pytest.param({"refresh_in": 600}, 599, 601, id="refresh_on"),
        # a token living less than twice the window is reused until half its life, not refetched per request
        pytest.param({"lifetime": 120}, 50, 65, id="short-lived-half-life"),
    ],
)
async def test_token_refreshed_at_its_refresh_time(
    clock: VirtualClock, token: dict[str, float], reused_at: float, refetched_at: float
) -> None:
    """The token is reused just before its refresh time (refresh_on, or half a short life) and refetched after."""
    credential = ScriptedCredential(token.get("lifetime", 3600), refresh_in=token.get("refresh_in"))
    transport = Wire(200, repeat_last=True)
    pipe = Pipeline(transport, [BearerTokenPolicy(credential, SCOPE)])
    await _send(pipe)
    clock.advance(reused_at)
    await _send(pipe)
    assert len(credential.calls) == 1
    clock.advance(refetched_at - reused_at)
    await _send(pipe)
    assert len(credential.calls) == 2
    assert transport.tokens == [f"{MARKER}-tok-1"] * 2 + [f"{MARKER}-tok-2"]


async def test_concurrent_requests_on_cold_cache_make_one_call() -> None:
    """Twenty concurrent requests with no token yet share one get_token call."""
    credential = ScriptedCredential(delay=0.05)
    transport = Wire(200, repeat_last=True)
    pipe = Pipeline(transport, [BearerTokenPolicy(credential, SCOPE)])
    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(_send, pipe)
    assert len(credential.calls) == 1
    assert set(transport.tokens) == {f"{MARKER}-tok-1"}
    assert transport.calls == 20


async def test_valid_token_used_while_another_request_refreshes(clock: VirtualClock) -> None:
    """While one request waits for the refresh, others go out at once with the still-valid token."""
    credential = ScriptedCredential()
    transport = Wire(200, repeat_last=True)
    pipe = Pipeline(transport, [BearerTokenPolicy(credential, SCOPE)])
    await _send(pipe)
    clock.advance(3600 - 100)
    credential.gate = anyio.Event()
    async with anyio.create_task_group() as tg:
        tg.start_soon(_send, pipe)  # starts the refresh and waits for it
        await anyio.wait_all_tasks_blocked()
        for _ in range(3):
            await _send(pipe)
        assert transport.calls == 4  # the three went out while the refresh was pending
        credential.gate.set()
    assert len(credential.calls) == 2
    tokens = transport.tokens
    assert tokens == [f"{MARKER}-tok-1"] * 4 + [f"{MARKER}-tok-2"]


async def test_refresh_failure_with_valid_token_keeps_it(
    clock: VirtualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A failed refresh while the old token is valid: requests succeed with it, the failure is logged."""
    credential = ScriptedCredential(errors={2: RuntimeError(f"{MARKER} in the credential's message")})
    transport = Wire(200, repeat_last=True)
    pipe = Pipeline(transport, [BearerTokenPolicy(credential, SCOPE)])
    await _send(pipe)
    clock.advance(3600 - 100)
    assert (await _send(pipe)).status_code == 200
    assert transport.tokens[-1] == f"{MARKER}-tok-1"
    warnings = [r for r in caplog.records if r.name == "pipework.auth" and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "RuntimeError" in warnings[0].getMessage()
    assert (await _send(pipe)).status_code == 200  # the next request tries again, and gets a new token
    assert transport.tokens[-1] == f"{MARKER}-tok-3"


async def test_refresh_failure_after_expiry_raises(clock: VirtualClock) -> None:
    """Once the old token has expired, a failing credential's error reaches the caller."""
    credential = ScriptedCredential(errors={2: RuntimeError("credential down")})
    transport = Wire(200, repeat_last=True)
    pipe = Pipeline(transport, [BearerTokenPolicy(credential, SCOPE)])
    await _send(pipe)
    clock.advance(3601)
    with pytest.raises(RuntimeError, match="credential down"):
        await _send(pipe)
    assert transport.calls == 1


async def test_http_url_refused_credential_never_called(clock: VirtualClock) -> None:
    """A plain-http URL raises InsecureTransportError once: no token fetched, nothing sent, no retry."""
    credential = ScriptedCredential()
    transport = Wire(200, repeat_last=True)
    policy = BearerTokenPolicy(credential, SCOPE)
    async with AsyncPipelineClient(
        transport=transport, policies=[RetryPolicy(retry_total=3), policy]
    ) as client:
        with pytest.raises(InsecureTransportError, match="https") as caught:
            await client.get("http://api.test/items?sig=abc")
    assert credential.calls == []
    assert transport.calls == 0
    assert clock.sleeps == []
    assert "abc" not in str(caught.value)  # the URL in the message is redacted


async def test_http_allowed_with_enforce_https_off() -> None:
    """enforce_https=False sends the token over http (local development)."""
    transport = Wire(200)
    policy = BearerTokenPolicy(StaticTokenCredential(f"{MARKER}-static"), enforce_https=False)
    await _send(Pipeline(transport, [policy]), "http://localhost/")
    assert transport.tokens[0] == f"{MARKER}-static"


async def test_claims_challenge_gets_token_with_claims() -> None:
    """A CAE claims challenge: the second token is requested with the decoded claims, and the call succeeds."""
    claims = {"access_token": {"nbf": {"essential": True, "value": "1726077595"}}}
    credential = ScriptedCredential()
    transport = Wire(_challenge(claims), 200, repeat_last=True)
    pipe = Pipeline(transport, [BearerTokenPolicy(credential, SCOPE)])
    response = await _send(pipe)
    assert response.status_code == 200
    assert len(credential.calls) == 2
    assert json.loads(credential.calls[1][1]["claims"]) == claims
    assert transport.tokens == [f"{MARKER}-tok-1", f"{MARKER}-tok-2"]
    await _send(pipe)  # the claims token was cached
    assert len(credential.calls) == 2


async def test_401_forever_returned_after_one_resend() -> None:
    """A service that always challenges: one resend, then its 401 comes back (no loop)."""
    credential = ScriptedCredential()
    transport = Wire(PLAIN_CHALLENGE, repeat_last=True)
    pipe = Pipeline(transport, [BearerTokenPolicy(credential, SCOPE)])
    response = await _send(pipe)
    assert response.status_code == 401
    assert transport.calls == 2
    assert len(credential.calls) == 2


async def test_claims_challenge_forever_returned_after_one_resend() -> None:
    """Repeated claims challenges also stop after one resend."""
    transport = Wire(_challenge({"a": 1}), repeat_last=True)
    pipe = Pipeline(transport, [BearerTokenPolicy(ScriptedCredential(), SCOPE)])
    assert (await _send(pipe)).status_code == 401
    assert transport.calls == 2


async def test_401_without_challenge_returned_as_is() -> None:
    """A 401 without WWW-Authenticate is returned at once and the cached token is kept."""
    credential = ScriptedCredential()
    transport = Wire(401, 200)
    pipe = Pipeline(transport, [BearerTokenPolicy(credential, SCOPE)])
    assert (await _send(pipe)).status_code == 401
    assert transport.calls == 1
    await _send(pipe)
    assert len(credential.calls) == 1


async def test_other_scheme_and_malformed_claims_not_answered() -> None:
    """A Basic challenge or an undecodable claims challenge is returned without a resend."""
    basic = httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="x"'})
    bad = httpx.Response(
        401, headers={"WWW-Authenticate": 'Bearer error="insufficient_claims", claims="%%%"'}
    )
    for answer in (basic, bad):
        transport = Wire(answer, 200)
        pipe = Pipeline(transport, [BearerTokenPolicy(ScriptedCredential(), SCOPE)])
        assert (await _send(pipe)).status_code == 401
        assert transport.calls == 1


async def test_challenge_drops_cached_token() -> None:
    """After a 401 challenge the rejected token is not used again."""
    credential = ScriptedCredential()
    transport = Wire(PLAIN_CHALLENGE, PLAIN_CHALLENGE, 200)
    pipe = Pipeline(transport, [BearerTokenPolicy(credential, SCOPE)])
    await _send(pipe)
    await _send(pipe)
    assert transport.tokens == [f"{MARKER}-tok-{n}" for n in (1, 2, 3)]


async def test_one_shot_body_not_resent() -> None:
    """A streamed upload that cannot be replayed gets its 401 back instead of a broken resend."""

    async def body() -> Any:
        yield b"data"

    transport = Wire(PLAIN_CHALLENGE, 200)
    pipe = Pipeline(transport, [BearerTokenPolicy(ScriptedCredential(), SCOPE)])
    response = await pipe.handle_async_request(httpx.Request("POST", URL, content=body()))
    assert response.status_code == 401
    assert transport.calls == 1


async def test_on_challenge_hook() -> None:
    """An on_challenge hook decides: it can authorize for another tenant and resend, or decline."""
    seen: list[str] = []

    async def hook(policy: BearerTokenPolicy, request: httpx.Request, response: httpx.Response) -> bool:
        seen.append(response.headers["www-authenticate"])
        if "tenant" in response.headers["www-authenticate"]:
            await policy.authorize_request(request, tenant_id="other-tenant")
            return True
        return False

    credential = ScriptedCredential()
    tenant = httpx.Response(401, headers={"WWW-Authenticate": 'Custom tenant="other-tenant"'})
    transport = Wire(tenant, 200)
    pipe = Pipeline(transport, [BearerTokenPolicy(credential, SCOPE, on_challenge=hook)])
    assert (await _send(pipe)).status_code == 200
    assert credential.calls[1][1] == {"tenant_id": "other-tenant"}
    declined = Wire(PLAIN_CHALLENGE, 200)
    pipe = Pipeline(declined, [BearerTokenPolicy(ScriptedCredential(), SCOPE, on_challenge=hook)])
    assert (await _send(pipe)).status_code == 401
    assert declined.calls == 1
    assert len(seen) == 2


async def test_sync_credential_runs_in_worker_thread() -> None:
    """A blocking credential is called off the event loop's thread."""
    credential = SyncCredential()
    transport = Wire(200)
    await _send(Pipeline(transport, [BearerTokenPolicy(credential, SCOPE)]))
    assert len(credential.threads) == 1
    assert credential.threads[0] != threading.get_ident()
    assert transport.tokens[0] == f"{MARKER}-sync-1"


class AzureAccessToken(NamedTuple):
    """The shape of azure.core.credentials.AccessToken."""

    token: str
    expires_on: int


class AzureLikeCredential:
    """The shape of azure.identity's sync credentials (no azure import)."""

    def __init__(self) -> None:
        self.kwargs: list[dict[str, Any]] = []

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AzureAccessToken:
        self.kwargs.append({"claims": claims, "tenant_id": tenant_id, "enable_cae": enable_cae})
        return AzureAccessToken(f"{MARKER}-azure", int(__import__("time").time()) + 3600)


class AsyncAzureLikeCredential(AzureLikeCredential):
    """The shape of azure.identity.aio's credentials."""

    async def get_token(  # type: ignore[override]
        self, *scopes: str, claims: str | None = None, tenant_id: str | None = None, **kwargs: Any
    ) -> AzureAccessToken:
        return super().get_token(*scopes, claims=claims, tenant_id=tenant_id, **kwargs)


@pytest.mark.parametrize("cls", [AzureLikeCredential, AsyncAzureLikeCredential])
async def test_azure_shaped_credentials(cls: type[AzureLikeCredential]) -> None:
    """azure-identity-shaped credentials (sync and aio) returning azure's AccessToken tuple work as they are."""
    credential = cls()
    transport = Wire(_challenge({"x": 1}), 200)
    policy = BearerTokenPolicy(credential, SCOPE, enable_cae=True)
    assert (await _send(Pipeline(transport, [policy]))).status_code == 200
    assert transport.tokens[1] == f"{MARKER}-azure"
    assert credential.kwargs[0] == {"claims": None, "tenant_id": None, "enable_cae": True}
    assert credential.kwargs[1]["claims"] == '{"x": 1}'


async def test_bad_token_from_credential_message_hides_it() -> None:
    """A credential returning garbage gets a TypeError naming the type, never the token."""

    class Broken:
        async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
            return {"token": f"{MARKER}-broken", "expires_on": 1}

    with pytest.raises(TypeError) as caught:
        await _send(Pipeline(Wire(200), [BearerTokenPolicy(Broken())]))
    assert MARKER not in str(caught.value)
    assert "dict" in str(caught.value)


def test_policy_built_outside_a_loop_works_on_asyncio_and_trio() -> None:
    """One policy built with no loop running serves concurrent calls under asyncio, then under trio."""
    credential = ScriptedCredential(delay=0.02)
    policy = BearerTokenPolicy(credential, SCOPE)

    async def burst() -> None:
        pipe = Pipeline(Wire(200, repeat_last=True), [policy])
        async with anyio.create_task_group() as tg:
            for _ in range(10):
                tg.start_soon(_send, pipe)

    anyio.run(burst, backend="asyncio")
    assert len(credential.calls) == 1
    policy._cache = None  # cold again, now under trio
    anyio.run(burst, backend="trio")
    assert len(credential.calls) == 2


def test_reprs_hide_secrets() -> None:
    """Reprs of tokens, credentials and the policy show no secret."""
    token = AccessToken(f"{MARKER}-repr", 1.0)
    credential = StaticTokenCredential(f"{MARKER}-repr")
    policy = BearerTokenPolicy(credential, SCOPE)
    for text in (repr(token), repr(credential), repr(policy), str(token)):
        assert MARKER not in text
    assert "StaticTokenCredential" in repr(policy)
    assert SCOPE in repr(policy)


@pytest.mark.parametrize(
    ("args", "kwargs", "name"),
    [
        ((object(),), {}, "credential"),
        ((StaticTokenCredential("t"), ""), {}, "scopes"),
        ((StaticTokenCredential("t"),), {"refresh_window": -1}, "refresh_window"),
        ((StaticTokenCredential("t"),), {"on_challenge": 3}, "on_challenge"),
    ],
)
def test_bad_arguments_named(args: tuple[Any, ...], kwargs: dict[str, Any], name: str) -> None:
    """Bad constructor arguments raise ConfigurationError naming the argument."""
    with pytest.raises(ConfigurationError, match=name):
        BearerTokenPolicy(*args, **kwargs)
