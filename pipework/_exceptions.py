"""The error tree of pipework.

Transport failures stay httpx's own exceptions (so `except httpx.HTTPError` keeps working); what
pipework adds hangs under `PipeworkError`, and each class that has an httpx counterpart is also a
subclass of it::

    PipeworkError
    ├── ConfigurationError (ValueError)            a setting or argument is wrong; raised at construction
    ├── InsecureTransportError                     a credential would be sent over plain http
    ├── HttpResponseError (httpx.HTTPStatusError)  raise_for_status() on a 4xx/5xx
    │   ├── ClientAuthenticationError              401, 403
    │   ├── ResourceNotModifiedError               304
    │   ├── ResourceNotFoundError                  404
    │   ├── ResourceExistsError                    409
    │   ├── ResourceModifiedError                  412
    │   ├── TooManyRequestsError                   429
    │   └── ServiceError                           5xx
    ├── DeadlineExceededError (httpx.TimeoutException)   the call's deadline passed between attempts
    ├── TooManyRedirectsError (httpx.TooManyRedirects)   a redirect loop, or more hops than allowed
    └── ResilienceError                            raised by a resilience policy without touching the network
        ├── CircuitOpenError                       the origin's breaker is open
        ├── BulkheadFullError                      too many requests in flight and queued for the origin
        └── ThrottledError                         adaptive throttling rejected the request on the client

Every error raised for a call carries the request, so `pipework.history(exc)` gives the attempts made.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

__all__ = [
    "BulkheadFullError",
    "CircuitOpenError",
    "ClientAuthenticationError",
    "ConfigurationError",
    "DeadlineExceededError",
    "HttpResponseError",
    "InsecureTransportError",
    "PipeworkError",
    "ResilienceError",
    "ResourceExistsError",
    "ResourceModifiedError",
    "ResourceNotFoundError",
    "ResourceNotModifiedError",
    "ServiceError",
    "ThrottledError",
    "TooManyRedirectsError",
    "TooManyRequestsError",
    "raise_for_status",
]


class PipeworkError(Exception):
    """Base class of every error pipework itself raises."""


class ConfigurationError(PipeworkError, ValueError):
    """A setting or argument is invalid; the message names it. Raised when the object is built."""


class InsecureTransportError(PipeworkError):
    """A credential would have been sent over plain http; raised before anything is sent, never retried."""


class HttpResponseError(PipeworkError, httpx.HTTPStatusError):
    """The service answered with an error status; carries the response and its parsed error body.

    `error_code` and `error_message` come from the body when it is RFC 9457 problem details or
    `{"error": {"code", "message"}}`; `error` is the parsed JSON (or None).
    """

    def __init__(self, message: str, *, request: httpx.Request, response: httpx.Response) -> None:
        super().__init__(message, request=request, response=response)
        self.status_code = response.status_code
        self.reason = response.reason_phrase
        self.error: dict[str, Any] | None = None
        self.error_code: str | None = None
        self.error_message: str | None = None

    @classmethod
    def from_response(cls, response: httpx.Response) -> HttpResponseError:
        """Build the most specific error for `response`, with its error body parsed."""
        error_cls = _ERROR_BY_STATUS.get(response.status_code)
        if error_cls is None:
            error_cls = ServiceError if response.status_code >= 500 else HttpResponseError
        body = _parse_error_body(response)
        code = message = None
        if body is not None:
            code, message = _code_and_message(body)
        text = f"{response.status_code} {response.reason_phrase}"
        if code:
            text += f" ({code})"
        if message:
            text += f": {message}"
        error = error_cls(text, request=response.request, response=response)
        error.error, error.error_code, error.error_message = body, code, message
        return error


class ClientAuthenticationError(HttpResponseError):
    """401 or 403: fix the credential; retrying will not help."""


class ResourceNotModifiedError(HttpResponseError):
    """304: the resource did not change since the condition given."""


class ResourceNotFoundError(HttpResponseError):
    """404: the resource does not exist."""


class ResourceExistsError(HttpResponseError):
    """409: the resource already exists (or conflicts with the request)."""


class ResourceModifiedError(HttpResponseError):
    """412: a precondition (If-Match, If-Unmodified-Since) failed; the resource changed."""


class TooManyRequestsError(HttpResponseError):
    """429 after the retries the configuration allows."""


class ServiceError(HttpResponseError):
    """A 5xx the retries did not get past."""


class DeadlineExceededError(PipeworkError, httpx.TimeoutException):
    """The call's deadline (RetryConfig.timeout) passed; `except httpx.TimeoutException` catches it."""


class TooManyRedirectsError(PipeworkError, httpx.TooManyRedirects):
    """A redirect loop or more hops than allowed; `history` holds the responses of the hops."""

    def __init__(self, message: str, *, request: httpx.Request, history: list[httpx.Response]) -> None:
        super().__init__(message, request=request)
        self.history = history


class ResilienceError(PipeworkError):
    """A resilience policy refused the request without touching the network; `request` is the one refused."""

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self._request = request  # the name httpx's errors use, so `pipework.history(exc)` finds the call

    @property
    def request(self) -> httpx.Request | None:
        """The request refused (None when raised outside a call)."""
        return self._request


class CircuitOpenError(ResilienceError):
    """The origin's circuit breaker is open; `retry_at` is the monotonic time it will let a probe through."""

    def __init__(
        self, message: str, *, origin: str, retry_at: float, request: httpx.Request | None = None
    ) -> None:
        super().__init__(message, request=request)
        self.origin = origin
        self.retry_at = retry_at


class BulkheadFullError(ResilienceError):
    """Too many requests in flight and waiting for one origin; the queue bound was reached."""


class ThrottledError(ResilienceError):
    """The origin keeps refusing (429/503): adaptive throttling dropped this request on the client side."""


_ERROR_BY_STATUS: dict[int, type[HttpResponseError]] = {
    304: ResourceNotModifiedError,
    401: ClientAuthenticationError,
    403: ClientAuthenticationError,
    404: ResourceNotFoundError,
    409: ResourceExistsError,
    412: ResourceModifiedError,
    429: TooManyRequestsError,
}


def _parse_error_body(response: httpx.Response) -> dict[str, Any] | None:
    if not hasattr(response, "_content"):
        return None  # a streamed body that was not read: never read it behind the caller's back
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _code_and_message(body: dict[str, Any]) -> tuple[str | None, str | None]:
    inner = body.get("error")
    if isinstance(inner, dict):  # {"error": {"code": ..., "message": ...}} (OData, Azure, Google)
        code, message = inner.get("code"), inner.get("message")
    elif isinstance(inner, str):  # {"error": "...", "error_description": "..."} (OAuth 2)
        code, message = inner, body.get("error_description") or body.get("message")
    else:  # RFC 9457 problem details
        code = body.get("code") or body.get("type") or body.get("title")
        message = body.get("detail") or body.get("message") or body.get("title")
        if code == message:
            code = None
    return (str(code) if code is not None else None, str(message) if message is not None else None)


def raise_for_status(response: httpx.Response) -> httpx.Response:
    """Return `response` if it is not an error; raise the matching `HttpResponseError` for 4xx/5xx (and 304).

    Raises:
        HttpResponseError: or its subclass for the status, with the parsed error body attached.
    """
    status = response.status_code
    if status < 400 and status != 304:
        return response
    raise HttpResponseError.from_response(response)
