"""NetworkTraceLoggingPolicy: full headers and bodies of every attempt on `pipework.network` (opt-in, redacted)."""

from __future__ import annotations

import logging

import httpx

from .._exceptions import ConfigurationError
from .._redact import redact_body, redact_headers, redact_url
from ..pipeline._base import SansIOPolicy
from ..pipeline._context import CONTEXT_KEY, CallContext

__all__ = ["NetworkTraceLoggingPolicy"]

logger = logging.getLogger("pipework.network")

_DEBUG = logging.DEBUG
_NOT_READ = "<streamed body: not read, not shown>"


class NetworkTraceLoggingPolicy(SansIOPolicy):
    """For debugging: logs each attempt's request and response in full, at DEBUG on `pipework.network`.

    Off unless `enabled=True` (for every call of the client) or the call passes `network_trace=True`
    (`network_trace=False` on a call silences an enabled client for that call). Headers are shown in full
    except secrets (Authorization, cookies, Set-Cookie, API keys), URLs in full except secret query values;
    bodies are shown up to `max_body_bytes`, with secret fields of JSON and form bodies redacted. A body that
    is streamed (a one-shot request body, or a response of a `stream=True` call) is never read here.
    Records carry `extra=` fields: `http_direction`, `http_method`, `http_url`, `http_status`,
    `http_headers`, `http_body`, `attempt`, `request_id`.

    Raises:
        ConfigurationError: `max_body_bytes` is not a non-negative int.
    """

    __slots__ = ("enabled", "max_body_bytes")

    def __init__(self, enabled: bool = False, *, max_body_bytes: int = 8192) -> None:
        if isinstance(max_body_bytes, bool) or not isinstance(max_body_bytes, int) or max_body_bytes < 0:
            raise ConfigurationError(
                f"NetworkTraceLoggingPolicy max_body_bytes must be an int >= 0, got {max_body_bytes!r}"
            )
        self.enabled = bool(enabled)
        self.max_body_bytes = max_body_bytes

    def _context(self, request: httpx.Request) -> tuple[bool, CallContext | None]:
        """Whether to trace this attempt, and the call context."""
        if not logger.isEnabledFor(_DEBUG):  # first: the cheapest test, and the usual answer
            return False, None
        ctx = request.extensions.get(CONTEXT_KEY)
        if not isinstance(ctx, CallContext):
            return self.enabled, None
        return (self.enabled if ctx.network_trace is None else ctx.network_trace), ctx

    def on_request(self, request: httpx.Request, /) -> None:
        """Log the request of this attempt."""
        wanted, ctx = self._context(request)
        if not wanted:
            return
        try:
            body = redact_body(request.content, request.headers.get("content-type"), self.max_body_bytes)
        except httpx.RequestNotRead:
            body = _NOT_READ
        self._log("request", request, None, request.headers, body, ctx)

    def on_response(self, request: httpx.Request, response: httpx.Response, /) -> None:
        """Log the response of this attempt (the body only when it is already read)."""
        wanted, ctx = self._context(request)
        if not wanted:
            return
        if ctx is not None and ctx.stream:
            body = _NOT_READ
        else:
            try:
                body = redact_body(
                    response.content, response.headers.get("content-type"), self.max_body_bytes
                )
            except httpx.ResponseNotRead:
                body = _NOT_READ
        self._log("response", request, response.status_code, response.headers, body, ctx)

    def on_exception(self, request: httpx.Request, exc: Exception, /) -> None:
        """Log that the attempt failed, with the error's type (its message may hold an unredacted URL)."""
        wanted, ctx = self._context(request)
        if not wanted:
            return
        self._log("error", request, None, httpx.Headers(), type(exc).__name__, ctx)

    def _log(
        self,
        direction: str,
        request: httpx.Request,
        status: int | None,
        headers: httpx.Headers,
        body: str,
        ctx: CallContext | None,
    ) -> None:
        url = redact_url(request.url)
        shown = redact_headers(headers)
        attempt = (ctx.attempt or 1) if ctx is not None else 1
        request_id = ctx.request_id if ctx is not None else None
        lines = [
            f"{direction.capitalize()} [{request.method}] {url}"
            + (f" -> {status}" if status is not None else "")
            + f" (attempt {attempt}, request id {request_id})"
        ]
        lines.extend(f"    {name}: {value}" for name, value in shown.items())
        if body:
            lines.append(f"  body: {body}")
        logger.debug(
            "%s",
            "\n".join(lines),
            extra={
                "http_direction": direction,
                "http_method": request.method,
                "http_url": url,
                "http_status": status,
                "http_headers": shown,
                "http_body": body,
                "attempt": attempt,
                "request_id": request_id,
            },
        )

    def __repr__(self) -> str:
        return f"NetworkTraceLoggingPolicy(enabled={self.enabled}, max_body_bytes={self.max_body_bytes})"
