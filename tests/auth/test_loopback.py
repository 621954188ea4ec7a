"""Bearer auth against a real loopback server that requires a token and challenges once."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from pipework import AsyncPipelineClient, BearerTokenPolicy
from pipework.testing import serve

from .conftest import MARKER, ScriptedCredential

pytestmark = pytest.mark.anyio

CLAIMS = '{"access_token":{"nbf":{"essential":true,"value":"1"}}}'


class ChallengingApp:
    """Requires `Authorization: Bearer <token>`; the first token is refused with a CAE claims challenge,
    later tokens are accepted. Records the tokens it saw."""

    def __init__(self) -> None:
        self.seen: list[str | None] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        headers = dict(scope["headers"])
        value = headers.get(b"authorization", b"").decode()
        token = value.removeprefix("Bearer ") if value.startswith("Bearer ") else None
        self.seen.append(token)
        if token is None or len(self.seen) == 1:
            claims = base64.urlsafe_b64encode(CLAIMS.encode()).decode().rstrip("=")
            challenge = f'Bearer realm="", error="insufficient_claims", claims="{claims}"'
            status, extra, body = 401, [(b"www-authenticate", challenge.encode())], b'{"error":"claims"}'
        else:
            status, extra, body = 200, [], json.dumps({"ok": True}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), *extra],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def test_real_server_challenge_answered_once() -> None:
    """The server challenges once; the client fetches a token with its claims, resends, and gets 200."""
    app = ChallengingApp()
    credential = ScriptedCredential()
    with serve(app) as base_url:
        policy = BearerTokenPolicy(credential, "api://loop/.default", enforce_https=False)
        async with AsyncPipelineClient(base_url, per_retry_policies=[policy]) as client:
            first = await client.get("/resource")
            second = await client.get("/resource")
    assert first.status_code == 200
    assert first.json() == {"ok": True}
    assert second.status_code == 200
    assert app.seen == [f"{MARKER}-tok-1", f"{MARKER}-tok-2", f"{MARKER}-tok-2"]
    assert [kwargs for _, kwargs in credential.calls] == [{}, {"claims": CLAIMS}]
