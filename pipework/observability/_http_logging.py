"""HttpLoggingPolicy: one INFO record per attempt on `pipework.http`, allowlisted and redacted."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

import httpx

from .._exceptions import ConfigurationError
from .._redact import redact_headers, redact_url
from ..pipeline._base import SansIOPolicy
from ..pipeline._context import CONTEXT_KEY, CallContext

__all__ = ["DEFAULT_ALLOWED_HEADERS", "DEFAULT_ALLOWED_QUERY_PARAMS", "HttpLoggingPolicy"]

logger = logging.getLogger("pipework.http")

DEFAULT_ALLOWED_HEADERS = frozenset(
    {
        "accept", "cache-control", "connection", "content-length", "content-type", "date", "etag", "expires",
        "if-match", "if-modified-since", "if-none-match", "if-unmodified-since", "last-modified", "location",
        "pragma", "request-id", "retry-after", "retry-after-ms", "server", "traceparent", "transfer-encoding",
        "user-agent", "www-authenticate", "x-ms-client-request-id", "x-ms-request-id", "x-ms-error-code",
        "x-ms-retry-after-ms", "x-ms-return-client-request-id", "x-request-id", "idempotency-key",
    }
)  # fmt: skip
"""Header names (lower case) whose values HttpLoggingPolicy shows; every other value is REDACTED."""

DEFAULT_ALLOWED_QUERY_PARAMS = frozenset({"api-version"})
"""Query parameter names whose values HttpLoggingPolicy shows; every other value is REDACTED."""

_STARTED = "pipework.http_logging.started"
_INFO = logging.INFO


class HttpLoggingPolicy(SansIOPolicy):
    """Logs each attempt once, at INFO on `pipework.http`, when it ends (a response or an error).

    The message is one line: method, URL, status (or error type), elapsed milliseconds, attempt number and
    the call's request id. The record's `extra=` fields carry the same values plus the request and response
    headers (`http_request_headers`, `http_response_headers`) for JSON log handlers. Only header and query
    parameter values on the allowlists are shown (the defaults, plus `allowed_headers` /
    `allowed_query_params`); every other value reads REDACTED, and known secrets are redacted even when
    allowlisted. When the logger is not enabled for INFO the policy does nothing but that one check.

    Raises:
        ConfigurationError: an allowlist that is not an iterable of strings (names the argument).
    """

    __slots__ = ("allowed_headers", "allowed_query_params")

    def __init__(
        self, *, allowed_headers: Iterable[str] = (), allowed_query_params: Iterable[str] = ()
    ) -> None:
        self.allowed_headers: frozenset[str] = DEFAULT_ALLOWED_HEADERS | _names(
            "allowed_headers", allowed_headers
        )
        self.allowed_query_params: frozenset[str] = DEFAULT_ALLOWED_QUERY_PARAMS | _names(
            "allowed_query_params", allowed_query_params
        )

    def on_request(self, request: httpx.Request, /) -> None:
        """Note when the attempt started (only when the record will be written)."""
        if logger.isEnabledFor(_INFO):
            request.extensions[_STARTED] = time.perf_counter()

    def on_response(self, request: httpx.Request, response: httpx.Response, /) -> None:
        """Write the attempt's record with its status."""
        if logger.isEnabledFor(_INFO):
            self._log(request, response, None)

    def on_exception(self, request: httpx.Request, exc: Exception, /) -> None:
        """Write the attempt's record with the error's type (never its message: it may hold a URL)."""
        if logger.isEnabledFor(_INFO):
            self._log(request, None, exc)

    def _log(self, request: httpx.Request, response: httpx.Response | None, exc: Exception | None) -> None:
        started = request.extensions.get(_STARTED)
        elapsed_ms = round((time.perf_counter() - started) * 1000, 3) if isinstance(started, float) else None
        ctx = request.extensions.get(CONTEXT_KEY)
        attempt = (ctx.attempt or 1) if isinstance(ctx, CallContext) else 1
        request_id = ctx.request_id if isinstance(ctx, CallContext) else None
        url = redact_url(request.url, self.allowed_query_params)
        status = response.status_code if response is not None else None
        error = type(exc).__name__ if exc is not None else None
        extra = {
            "http_method": request.method,
            "http_url": url,
            "http_status": status,
            "error_type": error,
            "elapsed_ms": elapsed_ms,
            "attempt": attempt,
            "request_id": request_id,
            "http_request_headers": redact_headers(request.headers, self.allowed_headers),
            "http_response_headers": (
                redact_headers(response.headers, self.allowed_headers) if response is not None else None
            ),
        }
        logger.info(
            "HTTP %s %s -> %s (%s ms, attempt %d, request id %s)",
            request.method,
            url,
            status if status is not None else error,
            elapsed_ms,
            attempt,
            request_id,
            extra=extra,
        )

    def __repr__(self) -> str:
        extra_headers = sorted(self.allowed_headers - DEFAULT_ALLOWED_HEADERS)
        extra_params = sorted(self.allowed_query_params - DEFAULT_ALLOWED_QUERY_PARAMS)
        return f"HttpLoggingPolicy(allowed_headers=+{extra_headers}, allowed_query_params=+{extra_params})"


def _names(argument: str, names: Iterable[str]) -> frozenset[str]:
    given = () if isinstance(names, str | bytes) or not isinstance(names, Iterable) else tuple(names)
    if (not given and names) or not all(isinstance(name, str) and name for name in given):
        raise ConfigurationError(
            f"HttpLoggingPolicy {argument} must be an iterable of non-empty strings, got {names!r}"
        )
    return frozenset(name.lower() for name in given)
