"""HttpxAuthPolicy: any `httpx.Auth` (Basic, Digest, NetRC, third-party) run inside the chain."""

from __future__ import annotations

import httpx

from .._exceptions import ConfigurationError
from ..pipeline._base import CallNext
from ..pipeline._redirect import credentials_allowed

__all__ = ["HttpxAuthPolicy"]


class HttpxAuthPolicy:
    """Drives `auth.async_auth_flow(request)` with the rest of the chain, as `httpx.AsyncClient` would.

    Each request the flow yields goes down the chain; its response is sent back into the flow, so
    challenge round trips (Digest's 401 → authorized resend) work. Requests a flow builds anew inherit
    the call's extensions (timeout, call context). The responses a flow answers are closed.

    Raises:
        ConfigurationError: `auth` is not an `httpx.Auth`.
    """

    __slots__ = ("_auth",)

    def __init__(self, auth: httpx.Auth) -> None:
        if not isinstance(auth, httpx.Auth):
            raise ConfigurationError(f"auth must be an httpx.Auth, got {type(auth).__name__}")
        self._auth = auth

    @property
    def auth(self) -> httpx.Auth:
        """The httpx auth object being driven."""
        return self._auth

    async def __call__(self, request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
        """Run the auth flow around `call_next`."""
        if not credentials_allowed(request):  # redirected to an origin the call does not trust
            return await call_next(request)
        auth = self._auth
        if auth.requires_request_body:
            await request.aread()
        flow = auth.async_auth_flow(request)
        try:
            current = await flow.__anext__()
            while True:
                if current is not request:
                    for key, value in request.extensions.items():
                        current.extensions.setdefault(key, value)
                response = await call_next(current)
                if auth.requires_response_body:
                    await response.aread()
                try:
                    following = await flow.asend(response)
                except StopAsyncIteration:
                    return response
                await response.aclose()
                current = following
        finally:
            await flow.aclose()

    def __repr__(self) -> str:
        return f"HttpxAuthPolicy(auth={type(self._auth).__name__})"
