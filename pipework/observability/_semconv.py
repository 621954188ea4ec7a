"""OpenTelemetry HTTP client semantic-convention attributes, computed without importing opentelemetry."""

from __future__ import annotations

import httpx

from .._redact import redact_url
from ..pipeline._context import CONTEXT_KEY, CallContext

__all__ = [
    "CALL_DURATION_BUCKETS",
    "DURATION_BUCKETS",
    "REQUEST_ID",
    "call_context",
    "error_type",
    "protocol_version",
    "request_attributes",
    "server_attributes",
]

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
"""The semantic conventions' advised bucket boundaries for `http.client.request.duration` (seconds)."""

CALL_DURATION_BUCKETS = (*DURATION_BUCKETS, 15.0, 30.0, 60.0, 120.0)
"""A whole call includes retries and their waits (up to RetryConfig.timeout, 120 s by default)."""

REQUEST_ID = "pipework.request_id"
"""The attribute carrying the call's correlation id (RequestIdPolicy's) on every span."""

_DEFAULT_PORTS = {"http": 80, "https": 443}

AttributeValue = str | int | float | bool


def call_context(request: httpx.Request) -> CallContext | None:
    """The call context of `request`, if it runs under a pipework client."""
    ctx = request.extensions.get(CONTEXT_KEY)
    return ctx if isinstance(ctx, CallContext) else None


def server_attributes(request: httpx.Request) -> dict[str, AttributeValue]:
    """Low-cardinality attributes of the target: method, scheme, server address and port (metrics)."""
    url = request.url
    attributes: dict[str, AttributeValue] = {
        "http.request.method": request.method,
        "server.address": url.host,
        "url.scheme": url.scheme,
    }
    port = url.port or _DEFAULT_PORTS.get(url.scheme)
    if port is not None:
        attributes["server.port"] = port
    return attributes


def request_attributes(request: httpx.Request, ctx: CallContext | None) -> dict[str, AttributeValue]:
    """Span attributes of a request: the server's, `url.full` with secrets redacted, the request id."""
    attributes = server_attributes(request)
    attributes["url.full"] = redact_url(request.url)
    if ctx is not None and ctx.request_id is not None:
        attributes[REQUEST_ID] = ctx.request_id
    return attributes


def error_type(exc: BaseException) -> str:
    """`error.type` of an exception: its fully-qualified class name (low cardinality, no message)."""
    cls = type(exc)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def protocol_version(response: httpx.Response) -> str | None:
    """`network.protocol.version` ("1.1", "2") from the response's HTTP version, if known."""
    version = response.extensions.get("http_version")
    if isinstance(version, bytes) and version.startswith(b"HTTP/"):
        return version[5:].decode("ascii", "replace")
    return None
