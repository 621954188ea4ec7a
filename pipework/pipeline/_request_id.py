"""RequestIdPolicy: one correlation id per call, on every attempt, in a header the service logs."""

from __future__ import annotations

import os

import httpx

from .._exceptions import ConfigurationError
from ._base import SansIOPolicy
from ._context import CONTEXT_KEY, CallContext
from ._headers import add_header, has_header

__all__ = ["RequestIdPolicy"]


class RequestIdPolicy(SansIOPolicy):
    """Sets `header_name` (default `x-ms-client-request-id`) to the call's correlation id.

    The id is chosen once per call and kept across retries and redirects. A caller-given id wins: the
    `request_id=` per-call option, or the header already on the request. The id is stored in the call
    context (`context_of(request).request_id`) so logs and spans of the call can carry it.

    Raises:
        ConfigurationError: an empty header name.
    """

    __slots__ = ("_key", "_name", "header_name")

    def __init__(self, header_name: str = "x-ms-client-request-id") -> None:
        if not header_name or not isinstance(header_name, str) or not header_name.isascii():
            raise ConfigurationError("RequestIdPolicy header_name must be a non-empty ASCII string")
        self.header_name = header_name
        self._key = header_name.lower().encode("ascii")  # as httpx keeps it, for has_header()
        self._name = header_name.encode("ascii")

    def on_request(self, request: httpx.Request, /) -> None:
        """Put the call's id on the request, choosing it on the first attempt."""
        ctx = request.extensions.get(CONTEXT_KEY)
        headers = request.headers
        name = self.header_name
        given = headers.get(name) if has_header(headers, self._key) else None
        if not isinstance(ctx, CallContext):
            if given is None:
                add_header(headers, self._name, self._key, new_request_id())
            return
        if ctx.request_id is None:
            ctx.request_id = given if given is not None else new_request_id()
        if given is None:
            add_header(headers, self._name, self._key, ctx.request_id)
        elif given != ctx.request_id:
            headers[name] = ctx.request_id

    def __repr__(self) -> str:
        return f"RequestIdPolicy(header_name={self.header_name!r})"


def new_request_id() -> str:
    """A random (version 4) UUID as text, as `str(uuid.uuid4())` gives, at less than half its cost."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # RFC 4122 variant
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
