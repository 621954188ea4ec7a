"""BearerTokenPolicy: `Authorization: Bearer <token>` from a token credential, cached and refreshed once."""

from __future__ import annotations

import functools
import inspect
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.to_thread
import httpx
import sniffio

from .._body import is_replayable
from .._exceptions import ConfigurationError, InsecureTransportError
from .._redact import redact_url
from .._time import MonotonicClock, clock
from ..pipeline._base import CallNext
from ..pipeline._headers import set_header
from ..pipeline._redirect import credentials_allowed
from ._challenge import claims_from_challenges, parse_challenges
from ._credentials import AccessToken, SyncTokenCredential, TokenCredential

__all__ = ["BearerTokenPolicy", "ChallengeHook"]

_LOGGER = logging.getLogger("pipework.auth")

ChallengeHook = Callable[["BearerTokenPolicy", httpx.Request, httpx.Response], Awaitable[bool]]
"""`async def hook(policy, request, response) -> bool`: handle a 401 challenge; True resends the request
(authorize it first, e.g. with `await policy.authorize_request(request, claims=...)`), False returns the 401."""

_MAX_SPREAD = 30.0
"""The most seconds a refresh is moved earlier at random (10% of the window, at most this)."""

_Cached = tuple[AccessToken, float]
"""A token and the unix time from which it is due for refresh."""


def unix_now() -> float:
    """Unix time as the policy sees it: `time.time()`, moved along with a test's `VirtualClock`."""
    current = clock()
    if type(current) is MonotonicClock:
        return time.time()
    return time.time() + (current.now() - time.monotonic())


class BearerTokenPolicy:
    """Adds `Authorization: Bearer <token>` for `scopes`, getting tokens from `credential` as few times as it can.

    - The token is cached and refreshed from `refresh_on` when the credential gives one, else
      `refresh_window` seconds before it expires (moved earlier by up to 10% of the window, at most 30 s, at
      random, so a fleet does not refresh at the same second; a token living less than twice the window is
      refreshed at half its life).
    - Single flight: concurrent requests with a cold or expired cache make one `get_token` call between
      them. While a still-valid token is being refreshed, other requests keep using it; if the refresh
      fails while the old token is valid, the old one is used and the failure is logged (warning).
    - Sync credentials (azure.identity) run in a worker thread; async ones (azure.identity.aio) are awaited.
    - A 401 with `WWW-Authenticate` drops the cached token; `on_challenge` (the method, or the hook given)
      decides whether to resend, once: the default answers a Bearer challenge with a fresh token, and a CAE
      claims challenge with a token carrying those claims. A second 401 is returned as it is.

    Raises:
        ConfigurationError: (at construction) a credential without `get_token`, a bad scope, window or hook.
        InsecureTransportError: (per request) the URL is not https and `enforce_https` is on; nothing is
            sent and the credential is not called. The retry policy never retries it.
    """

    __slots__ = (
        "_cache",
        "_credential",
        "_enable_cae",
        "_enforce_https",
        "_get_token",
        "_is_async",
        "_locks",
        "_on_challenge",
        "_refresh_window",
        "_scopes",
    )

    def __init__(
        self,
        credential: TokenCredential | SyncTokenCredential,
        *scopes: str,
        enforce_https: bool = True,
        refresh_window: float = 300,
        on_challenge: ChallengeHook | None = None,
        enable_cae: bool = False,
    ) -> None:
        get_token = getattr(credential, "get_token", None)
        if not callable(get_token):
            raise ConfigurationError(
                f"credential must have a get_token(*scopes, claims=None, tenant_id=None) method, "
                f"got {type(credential).__name__}"
            )
        for scope in scopes:
            if not isinstance(scope, str) or not scope:
                raise ConfigurationError(f"scopes must be non-empty strs, got {scope!r}")
        if (
            isinstance(refresh_window, bool)
            or not isinstance(refresh_window, int | float)
            or refresh_window < 0
        ):
            raise ConfigurationError(
                f"refresh_window must be a number of seconds >= 0, got {refresh_window!r}"
            )
        if on_challenge is not None and not callable(on_challenge):
            raise ConfigurationError(
                "on_challenge must be an async function (policy, request, response) -> bool"
            )
        self._credential = credential
        self._get_token: Callable[..., Any] = get_token
        self._is_async = inspect.iscoroutinefunction(get_token) or inspect.iscoroutinefunction(
            getattr(get_token, "__call__", None)  # noqa: B004
        )
        self._scopes = scopes
        self._enforce_https = enforce_https
        self._refresh_window = float(refresh_window)
        self._on_challenge = on_challenge
        self._enable_cae = enable_cae
        self._cache: _Cached | None = None
        self._locks: dict[str, anyio.Lock] = {}  # one per event-loop library, created on first need

    @property
    def scopes(self) -> tuple[str, ...]:
        """The scopes tokens are requested for."""
        return self._scopes

    async def __call__(self, request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
        """Authorize `request`, send it, and answer one 401 challenge."""
        if not credentials_allowed(request):  # redirected to an origin the call does not trust
            return await call_next(request)
        if self._enforce_https and request.url.scheme != "https":
            raise InsecureTransportError(
                f"refusing to send a bearer token over {request.url.scheme or 'a non-https URL'} to "
                f"{redact_url(request.url)}: use https (or BearerTokenPolicy(..., enforce_https=False))"
            )
        cache = self._cache
        token = cache[0] if cache is not None and unix_now() < cache[1] else await self._current_token()
        set_header(request.headers, b"Authorization", b"authorization", "Bearer " + token.token)
        replayable = is_replayable(request)  # before sending: a transport may read the body into memory
        response = await call_next(request)
        if response.status_code != 401 or "www-authenticate" not in response.headers:
            return response
        current = self._cache
        if current is not None and current[0] is token:
            self._cache = None  # the service rejected it; requests after this one get a new token
        if not replayable:
            _LOGGER.info("401 challenge not answered: the request body cannot be sent again")
            return response
        if self._on_challenge is not None:
            resend = await self._on_challenge(self, request, response)
        else:
            resend = await self.on_challenge(request, response)
        if not resend:
            return response
        await response.aclose()
        response = await call_next(request)
        if response.status_code == 401 and "www-authenticate" in response.headers:
            current = self._cache  # rejected again: not cached for later requests either (returned, no loop)
            if current is not None and request.headers.get("authorization") == "Bearer " + current[0].token:
                self._cache = None
        return response

    async def on_challenge(self, request: httpx.Request, response: httpx.Response) -> bool:
        """The default answer to a 401 with `WWW-Authenticate`; True resends `request` (authorized anew).

        A Bearer challenge with `error="insufficient_claims"` and base64url `claims` gets a token with the
        decoded claims; any other Bearer challenge gets a fresh token; other schemes and malformed claims
        challenges are not answered. Override it in a subclass, or pass `on_challenge=` to the constructor.
        """
        challenges = parse_challenges(response.headers.get_list("www-authenticate"))
        bearer = [params for scheme, params in challenges if scheme == "bearer"]
        if not bearer:
            return False
        claims = claims_from_challenges(challenges)
        if claims is not None:
            _LOGGER.info("401 with a claims challenge: requesting a token with the claims, resending once")
            await self.authorize_request(request, claims=claims)
            return True
        if any(params.get("error") == "insufficient_claims" for params in bearer):
            _LOGGER.warning("401 with a malformed claims challenge: not answered")
            return False
        _LOGGER.info("401 with a Bearer challenge: requesting a new token, resending once")
        token = await self._refresh(None, fallback=False)
        set_header(request.headers, b"Authorization", b"authorization", "Bearer " + token.token)
        return True

    async def authorize_request(
        self, request: httpx.Request, *, claims: str | None = None, tenant_id: str | None = None
    ) -> None:
        """Set the request's Authorization from a token just fetched with `claims`/`tenant_id` (for hooks).

        The new token is cached for later requests unless it is for another tenant.

        Raises:
            Exception: whatever the credential raises.
        """
        async with self._lock():
            token = await self._fetch(claims=claims, tenant_id=tenant_id)
        set_header(request.headers, b"Authorization", b"authorization", "Bearer " + token.token)

    async def _current_token(self) -> AccessToken:
        cache = self._cache
        if cache is not None and unix_now() < cache[0].expires_on:
            # Valid but due for refresh: one request refreshes, the others keep using the valid token.
            if self._lock().locked():
                return cache[0]
            return await self._refresh(cache, fallback=True)
        return await self._refresh(cache, fallback=False)

    async def _refresh(self, seen: _Cached | None, *, fallback: bool) -> AccessToken:
        async with self._lock():
            current = self._cache
            if current is not None and current is not seen and unix_now() < current[0].expires_on:
                return current[0]  # another request got a new token while this one waited
            try:
                return await self._fetch()
            except Exception as exc:
                if not fallback or seen is None or unix_now() >= seen[0].expires_on:
                    raise
                _LOGGER.warning(
                    "Token refresh failed (%s); using the cached token, which expires in %.0f s",
                    type(exc).__name__,
                    seen[0].expires_on - unix_now(),
                )
                return seen[0]

    async def _fetch(self, *, claims: str | None = None, tenant_id: str | None = None) -> AccessToken:
        kwargs: dict[str, Any] = {}
        if claims is not None:
            kwargs["claims"] = claims
        if tenant_id is not None:
            kwargs["tenant_id"] = tenant_id
        if self._enable_cae:
            kwargs["enable_cae"] = True
        started = unix_now()
        if self._is_async:
            result = await self._get_token(*self._scopes, **kwargs)
        else:
            result = await anyio.to_thread.run_sync(
                functools.partial(self._get_token, *self._scopes, **kwargs)
            )
            if inspect.isawaitable(result):
                result = await result
        token = AccessToken.coerce(result)
        if tenant_id is None:
            self._cache = (token, self._refresh_at(token, started))
        _LOGGER.debug(
            "Acquired an access token for scopes %s (expires in %.0f s)",
            self._scopes,
            token.expires_on - started,
        )
        return token

    def _refresh_at(self, token: AccessToken, fetched_at: float) -> float:
        if token.refresh_on is not None:
            return min(token.refresh_on, token.expires_on)
        window = min(self._refresh_window, max(0.0, token.expires_on - fetched_at) / 2)
        return token.expires_on - window - random.uniform(0.0, min(_MAX_SPREAD, window * 0.1))

    def _lock(self) -> anyio.Lock:
        library = sniffio.current_async_library()
        lock = self._locks.get(library)
        if lock is None:
            lock = self._locks[library] = anyio.Lock()
        return lock

    def __repr__(self) -> str:
        return (
            f"BearerTokenPolicy(credential={type(self._credential).__name__}, scopes={self._scopes!r}, "
            f"enforce_https={self._enforce_https}, refresh_window={self._refresh_window:g})"
        )
