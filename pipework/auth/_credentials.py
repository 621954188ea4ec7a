"""Credentials: access tokens and what issues them, rotatable API keys, and query-string signatures.

Any object with a `get_token(*scopes, claims=None, tenant_id=None)` method is a token credential, sync or
async: azure-identity's credentials (`azure.identity` and `azure.identity.aio`) work as they are, and
nothing here imports azure. No repr, log line or error message shows a token, a key or a signature.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Protocol, runtime_checkable
from urllib.parse import unquote_plus

from .._exceptions import ConfigurationError

__all__ = [
    "AccessToken",
    "AccessTokenLike",
    "KeyCredential",
    "SasCredential",
    "StaticTokenCredential",
    "SyncTokenCredential",
    "TokenCredential",
]


@dataclasses.dataclass(frozen=True, slots=True)
class AccessToken:
    """A bearer token, when it expires and (optionally) when its issuer wants it refreshed.

    `expires_on` and `refresh_on` are unix times (seconds since the epoch), as azure-identity gives them.
    The token itself is left out of the repr.

    Raises:
        ConfigurationError: an empty or non-str token, a non-numeric expires_on or refresh_on (named).
    """

    token: str = dataclasses.field(repr=False)
    expires_on: float
    refresh_on: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.token, str) or not self.token:  # the message never shows the token
            raise ConfigurationError(
                f"AccessToken token must be a non-empty str, got {type(self.token).__name__}"
            )
        for name in ("expires_on", "refresh_on"):
            value = getattr(self, name)
            if (value is not None or name == "expires_on") and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                raise ConfigurationError(
                    f"AccessToken {name} must be a unix time in seconds, got {type(value).__name__}"
                )

    @classmethod
    def coerce(cls, value: object) -> AccessToken:
        """Our AccessToken from any object with `token` and `expires_on` (azure-core's AccessToken and
        AccessTokenInfo, or a `(token, expires_on)` tuple).

        Raises:
            TypeError: `value` has no usable token or expiry (the message never shows the token).
        """
        if isinstance(value, AccessToken):
            return value
        token = getattr(value, "token", None)
        expires_on = getattr(value, "expires_on", None)
        if token is None and isinstance(value, tuple) and len(value) == 2:
            token, expires_on = value
        if not isinstance(token, str) or not token or not isinstance(expires_on, int | float):
            raise TypeError(
                f"get_token() returned a {type(value).__name__}; expected an object with a non-empty str "
                "`token` and a numeric `expires_on` (unix time)"
            )
        refresh_on = getattr(value, "refresh_on", None)
        return cls(
            token, float(expires_on), float(refresh_on) if isinstance(refresh_on, int | float) else None
        )


class AccessTokenLike(Protocol):
    """What a credential may return: our AccessToken, azure-core's AccessToken or AccessTokenInfo."""

    @property
    def token(self) -> str:
        """The secret."""
        ...

    @property
    def expires_on(self) -> float:
        """Unix time of expiry."""
        ...


@runtime_checkable
class TokenCredential(Protocol):
    """Issues access tokens for scopes; azure.identity.aio's credentials have this shape.

    `claims` carries a claims challenge (decoded JSON text) a service sent back with a 401.
    Credentials that return azure-core's AccessToken/AccessTokenInfo are accepted too.
    """

    async def get_token(
        self, *scopes: str, claims: str | None = None, tenant_id: str | None = None, **kwargs: Any
    ) -> AccessTokenLike:
        """A token valid for `scopes`."""
        ...


@runtime_checkable
class SyncTokenCredential(Protocol):
    """The synchronous shape (azure.identity's credentials); called in a worker thread, never on the loop."""

    def get_token(
        self, *scopes: str, claims: str | None = None, tenant_id: str | None = None, **kwargs: Any
    ) -> AccessTokenLike:
        """A token valid for `scopes` (may block)."""
        ...


class StaticTokenCredential:
    """Always the same token: for tests, scripts and tokens obtained elsewhere.

    `expires_on` defaults to a year from now. `calls` counts get_token() calls (tests assert on it).

    Raises:
        ConfigurationError: `token` is empty or not a str.
    """

    def __init__(self, token: str, *, expires_on: float | None = None) -> None:
        if not isinstance(token, str) or not token:
            raise ConfigurationError("token must be a non-empty str")
        self._token = AccessToken(token, time.time() + 365 * 86400 if expires_on is None else expires_on)
        self.calls = 0

    async def get_token(
        self, *scopes: str, claims: str | None = None, tenant_id: str | None = None, **kwargs: Any
    ) -> AccessToken:
        """The token, whatever the scopes."""
        self.calls += 1
        return self._token

    def __repr__(self) -> str:
        return f"StaticTokenCredential(expires_on={self._token.expires_on:.0f})"


class KeyCredential:
    """An API key sent in a header; `update(key)` rotates it and the next request uses the new one.

    Raises:
        ConfigurationError: `key` is empty or not a str (at construction or update).
    """

    __slots__ = ("_key",)

    def __init__(self, key: str) -> None:
        self._key = _check("key", key)

    @property
    def key(self) -> str:
        """The current key."""
        return self._key

    def update(self, key: str) -> None:
        """Replace the key (thread-safe: one attribute assignment)."""
        self._key = _check("key", key)

    def __repr__(self) -> str:
        return "KeyCredential(key=REDACTED)"


class SasCredential:
    """A shared-access signature: query parameters (e.g. `sv=...&sig=...`) appended to every request URL.

    `update(signature)` rotates it; the next request carries the new one instead of the old.

    Raises:
        ConfigurationError: `signature` is empty, not a str, or holds no `name=value` parameter.
    """

    __slots__ = ("_parts",)

    def __init__(self, signature: str) -> None:
        self._parts = _parse_signature(signature)

    @property
    def signature(self) -> str:
        """The current signature, without a leading `?`."""
        return self._parts[0]

    @property
    def parts(self) -> tuple[str, frozenset[str]]:
        """The signature and the (decoded) names of its parameters, read together."""
        return self._parts

    def update(self, signature: str) -> None:
        """Replace the signature (one attribute assignment: readers see the old parts or the new ones)."""
        self._parts = _parse_signature(signature)

    def __repr__(self) -> str:
        return f"SasCredential(params={sorted(self._parts[1])!r})"


def _check(name: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{name} must be a non-empty str, got {type(value).__name__}")
    return value


def _parse_signature(signature: object) -> tuple[str, frozenset[str]]:
    text = _check("signature", signature).lstrip("?")
    names = frozenset(unquote_plus(item.partition("=")[0]) for item in text.split("&") if item)
    if not text or not names or "" in names:
        raise ConfigurationError("signature must be a query string such as 'sv=...&sig=...'")
    return text, names
