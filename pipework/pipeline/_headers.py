"""HeadersPolicy: the client's default headers on every request; per-call headers win."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from .._exceptions import ConfigurationError
from ._base import SansIOPolicy

__all__ = ["HeadersPolicy", "add_header", "has_header", "set_header"]


class HeadersPolicy(SansIOPolicy):
    """Adds the client's default headers to each request that does not set them itself.

    Per-call headers (given to `request()`/`get()`… or on the request) win over the defaults.
    Header values are not shown in the repr (they may be keys).
    """

    __slots__ = ("_items", "_lowered")

    def __init__(self, headers: Mapping[str, str] | httpx.Headers | None = None) -> None:
        try:
            self._items = tuple(httpx.Headers(headers or {}).items())
            self._lowered = tuple(
                (key.lower().encode("ascii"), key.encode("ascii"), value) for key, value in self._items
            )
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
        for lowered, key, value in self._lowered:
            if not has_header(headers, lowered):
                add_header(headers, key, lowered, value)

    def __repr__(self) -> str:
        return f"HeadersPolicy(names={[key for key, _ in self._items]!r})"


def add_header(headers: httpx.Headers, name: bytes, lower_name: bytes, value: str) -> None:
    """Append a header the caller knows is absent (`has_header` said so): `headers[name] = value` without
    httpx's second scan for existing entries. Encoded as httpx encodes a set value."""
    headers._list.append((name, lower_name, value.encode(headers._encoding or "utf-8")))


def set_header(headers: httpx.Headers, name: bytes, lower_name: bytes, value: str) -> None:
    """`headers[name] = value` (the first entry of that name replaced, any others dropped, else appended)
    without httpx's re-derivation of the headers' encoding on every set. Encoded as `add_header` does."""
    encoded = (name, lower_name, value.encode(headers._encoding or "utf-8"))
    entries = headers._list
    for index, (_, key, _) in enumerate(entries):
        if key == lower_name:
            entries[index] = encoded
            entries[index + 1 :] = [entry for entry in entries[index + 1 :] if entry[1] != lower_name]
            return
    entries.append(encoded)


def has_header(headers: httpx.Headers, lower_name: bytes) -> bool:
    """Whether `headers` has the header `lower_name` (lower-case ASCII bytes): `name in headers` without
    httpx's per-lookup work (it re-derives the headers' text encoding by decoding every header each time)."""
    for _, key, _ in headers._list:  # noqa: SIM110 (a plain loop: half the cost of any() on a generator)
        if key == lower_name:
            return True
    return False
