"""The retry decision, as pure functions (table-tested): classify, may-retry, backoff, server wait, plan.

Nothing here sends, sleeps or reads a clock: callers pass `now` and the random draw in.
"""

from __future__ import annotations

import email.utils
import math
import random
from collections.abc import Callable, Mapping

import httpx

from ..._exceptions import PipeworkError
from .._context import Outcome
from ._config import RetryConfig

__all__ = [
    "IDEMPOTENT_METHODS",
    "NEVER_RETRIED_STATUSES",
    "backoff",
    "classify_error",
    "classify_response",
    "may_retry",
    "plan_retry",
    "server_wait",
]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})
NEVER_RETRIED_STATUSES = frozenset({401, 403, 501, 505})
"""Not retried for a Retry-After alone (a status the user lists in `status_codes` still is)."""

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)
_UNKNOWN = (
    httpx.ReadError,
    httpx.ReadTimeout,
    httpx.WriteError,
    httpx.WriteTimeout,
    httpx.RemoteProtocolError,
)


def classify_response(response: httpx.Response, config: RetryConfig) -> Outcome:
    """The outcome of a response: `rejected` for a status worth retrying, else `success` (a final answer, even a 404)."""
    status = response.status_code
    if status in config.status_codes:
        return "rejected"
    if (
        status >= 400
        and config.respect_retry_after
        and status not in NEVER_RETRIED_STATUSES
        and _has_retry_after(response.headers)
    ):
        return "rejected"
    return "success"


def classify_error(exc: BaseException) -> Outcome:
    """The outcome of an error: `not_sent` when the request surely never left, `unknown` when it may have been
    processed, else `fatal`."""
    if isinstance(exc, PipeworkError):
        return "fatal"
    if isinstance(exc, _NOT_SENT):
        return "not_sent"
    if isinstance(exc, _UNKNOWN):
        return "unknown"
    if isinstance(exc, httpx.NetworkError):  # another network failure: may have reached the server
        return "unknown"
    return "fatal"


def may_retry(
    outcome: Outcome,
    method: str,
    request_headers: Mapping[str, str],
    status: int | None = None,
    response_headers: Mapping[str, str] | None = None,
) -> bool:
    """Whether `method` may be sent again after `outcome` (DESIGN.md "Retries").

    Not sent: always. Rejected: idempotent methods; POST/PATCH only for 429/503 with a Retry-After in the
    response, or with an Idempotency-Key in the request. Unknown: idempotent methods or an Idempotency-Key.
    Success and fatal: never. Header names are matched case-insensitively.
    """
    if outcome == "not_sent":
        return True
    if outcome not in ("rejected", "unknown"):
        return False
    if method.upper() in IDEMPOTENT_METHODS or "idempotency-key" in _headers(request_headers):
        return True
    return (
        outcome == "rejected"
        and status in (429, 503)
        and response_headers is not None
        and _has_retry_after(_headers(response_headers))
    )


def backoff(config: RetryConfig, retry_number: int, draw: float) -> float:
    """The computed delay before retry `retry_number` (from 0); `draw` is uniform in [0, 1).

    Exponential: `backoff_factor * 2**n`, fixed: `backoff_factor`, both capped at `backoff_max`, then jittered
    (proportional: times U(1-j, 1+j); "full": U(0, delay)) and capped again. Never negative.
    """
    if config.mode == "fixed":
        base = config.backoff_factor
    else:
        base = config.backoff_factor * math.ldexp(1.0, min(retry_number, 1000))
    base = min(base, config.backoff_max)
    jitter = config.jitter
    if jitter == "full":
        delay = base * draw
    elif jitter:
        delay = base * (1.0 - jitter + 2.0 * jitter * draw)
    else:
        delay = base
    return max(0.0, min(delay, config.backoff_max))


_WAIT_HEADERS_MS = ("retry-after-ms", "x-ms-retry-after-ms")


def _headers(headers: Mapping[str, str]) -> Mapping[str, str]:
    """httpx.Headers as they are (case-insensitive already); any other mapping with its names lower-cased."""
    if isinstance(headers, httpx.Headers):
        return headers
    return {str(name).lower(): value for name, value in headers.items()}


def _has_retry_after(headers: Mapping[str, str]) -> bool:
    return "retry-after" in headers or any(name in headers for name in _WAIT_HEADERS_MS)


def server_wait(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds the server asked to wait, or None (absent, malformed, zero or negative: use normal backoff).

    Reads `retry-after-ms` and `x-ms-retry-after-ms` (milliseconds) first, then Retry-After as seconds or as an
    HTTP-date (relative to `now`, a unix time). Never raises.
    """
    headers = _headers(headers)
    # The lower-cased names, in one pass (each `in` on httpx.Headers re-encodes the name and scans the list;
    # a miss through .get() raises and catches inside).
    names = headers.keys()
    for name in _WAIT_HEADERS_MS:
        if name in names:
            milliseconds = _number(headers[name])
            if milliseconds is not None:
                wait = milliseconds / 1000.0  # (5e-324 ms is 0.0 s: zero, so normal backoff)
                return wait if wait > 0 else None
    if "retry-after" not in names:
        return None
    value = headers["retry-after"]
    seconds = _number(value)
    if seconds is None:
        try:
            when = email.utils.parsedate_to_datetime(value.strip())
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            return None
        try:
            seconds = when.timestamp() - now
        except (OverflowError, OSError, ValueError):
            return None
    return seconds if seconds > 0 else None


def _number(value: str) -> float | None:
    try:
        number = float(value.strip())
    except (ValueError, AttributeError):
        return None
    return number if math.isfinite(number) else None


def plan_retry(
    config: RetryConfig,
    retry_number: int,
    headers: Mapping[str, str] | None,
    remaining: float,
    wall_now: float,
    draw: Callable[[], float] = random.random,
) -> tuple[float | None, str]:
    """The delay before retry `retry_number`, or (None, why) when waiting would break the limits.

    A server-requested wait longer than `retry_after_max` or than the `remaining` time gives up at once; so
    does a computed backoff that would end past the deadline.
    """
    requested = server_wait(headers, wall_now) if headers is not None and config.respect_retry_after else None
    if requested is not None:
        if requested > config.retry_after_max:
            return (
                None,
                f"server asked to wait {requested:g}s, more than retry_after_max={config.retry_after_max:g}s",
            )
        if requested >= remaining:
            return None, f"server asked to wait {requested:g}s, more than the {max(remaining, 0):.3g}s left"
        return requested, "server requested"
    delay = backoff(config, retry_number, draw())
    if delay >= remaining:
        return None, f"a {delay:.3g}s backoff would pass the call deadline ({max(remaining, 0):.3g}s left)"
    return delay, "backoff"
