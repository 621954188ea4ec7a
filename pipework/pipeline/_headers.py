"""HeadersPolicy: the client's default headers on every request; per-call headers win."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from .._exceptions import ConfigurationError
from ._base import SansIOPolicy

__all__ = ["HeadersPolicy"]


class HeadersPolicy(SansIOPolicy):
    """Adds the client's default headers to each request that does not set them itself.

    Per-call headers (given to `request()`/`get()`… or on the request) win over the defaults.
    Header values are not shown in the repr (they may be keys).
    """

    __slots__ = ("_items",)

    def __init__(self, headers: Mapping[str, str] | httpx.Headers | None = None) -> None:
        try:
            self._items = tuple(httpx.Headers(headers or {}).items())
        except (TypeError, ValueError) as exc:  # the values are not shown: they may be secrets
            raise ConfigurationError(
                f"headers must be a mapping of str names to str values, got {type(headers).__name__}"
            ) from exc

    @property
    def headers(self) -> httpx.Headers:
        """A copy of the default headers."""
        return httpx.Headers(list(self._items))

    def on_request(self, request: httpx.Request, /) -> None:
        """Add each default header the request lacks."""
        headers = request.headers
        for key, value in self._items:
            if key not in headers:
                headers[key] = value

    def __repr__(self) -> str:
        return f"HeadersPolicy(names={[key for key, _ in self._items]!r})"
