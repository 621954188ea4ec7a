"""ObservabilityHooks: plain callbacks with frozen events, for Prometheus, statsd or any home-grown stack."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

from .._exceptions import ConfigurationError
from .._redact import redact_url
from ..pipeline._base import CallNext
from ..pipeline._context import CallContext
from ._semconv import call_context

__all__ = ["AttemptEvent", "GiveUpEvent", "ObservabilityHooks", "RetryEvent"]

logger = logging.getLogger("pipework.hooks")


@dataclasses.dataclass(frozen=True, slots=True)
class AttemptEvent:
    """One attempt ended (a response or an error)."""

    request_id: str | None
    method: str
    url: str
    """Secrets redacted."""
    host: str
    attempt: int
    """1 for the first attempt of the call; counts across redirect hops."""
    status: int | None
    error_type: str | None
    """The exception's class name when the attempt raised."""
    elapsed: float
    """Seconds the attempt took."""


@dataclasses.dataclass(frozen=True, slots=True)
class RetryEvent:
    """A retry is being sent, after waiting `delay` seconds."""

    request_id: str | None
    method: str
    url: str
    host: str
    attempt: int
    """The number of the attempt being sent (2 for the first retry)."""
    delay: float
    previous_outcome: str
    """How the previous attempt ended: rejected, not_sent or unknown."""
    previous_status: int | None
    previous_error_type: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class GiveUpEvent:
    """A call ended without success: it raised, or its last response is one the retry policy would retry."""

    request_id: str | None
    method: str
    url: str
    host: str
    attempts: int
    status: int | None
    error_type: str | None
    reason: str | None
    """Why the retry policy stopped (e.g. "retries exhausted (total=3)"), when it said."""
    total_delay: float
    """Seconds waited between the call's attempts, in all."""


Hook = Callable[[Any], object]


class ObservabilityHooks:
    """Calls `on_attempt(AttemptEvent)`, `on_retry(RetryEvent)` and `on_giveup(GiveUpEvent)`.

    Like DistributedTracingPolicy it is two policies: this object goes before the retry policy (it sees the
    call end: on_giveup) and its `attempt_policy` after it (it sees each attempt: on_attempt, and on_retry
    as a retry starts). `AsyncPipelineClient(hooks=...)` places both. Hooks are plain synchronous
    functions; one that raises is logged on `pipework.hooks` and never fails the request.

    Raises:
        ConfigurationError: a hook that is not callable (names it).
    """

    __slots__ = ("attempt_policy", "on_attempt", "on_giveup", "on_retry")

    def __init__(
        self,
        *,
        on_attempt: Callable[[AttemptEvent], object] | None = None,
        on_retry: Callable[[RetryEvent], object] | None = None,
        on_giveup: Callable[[GiveUpEvent], object] | None = None,
    ) -> None:
        for name, hook in (("on_attempt", on_attempt), ("on_retry", on_retry), ("on_giveup", on_giveup)):
            if hook is not None and not callable(hook):
                raise ConfigurationError(f"ObservabilityHooks {name} must be callable, got {hook!r}")
        self.on_attempt = on_attempt
        self.on_retry = on_retry
        self.on_giveup = on_giveup
        self.attempt_policy = AttemptHooksPolicy(on_attempt, on_retry)

    async def __call__(self, request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
        """Send the call; report it to on_giveup if it ends without success."""
        if self.on_giveup is None:
            return await call_next(request)
        try:
            response = await call_next(request)
        except Exception as exc:
            _fire(self.on_giveup, _giveup(request, None, type(exc).__name__))
            raise
        ctx = call_context(request)
        if ctx is not None and ctx.history and ctx.history[-1].outcome == "rejected":
            _fire(self.on_giveup, _giveup(request, response.status_code, None))
        return response

    def __repr__(self) -> str:
        hooks = [name for name in ("on_attempt", "on_retry", "on_giveup") if getattr(self, name) is not None]
        return f"ObservabilityHooks({', '.join(hooks)})"


class AttemptHooksPolicy:
    """The per-attempt half of ObservabilityHooks (its `attempt_policy`); place it after the retry policy."""

    __slots__ = ("on_attempt", "on_retry")

    def __init__(
        self,
        on_attempt: Callable[[AttemptEvent], object] | None,
        on_retry: Callable[[RetryEvent], object] | None,
    ) -> None:
        self.on_attempt = on_attempt
        self.on_retry = on_retry

    async def __call__(self, request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
        """Report a retry as it starts, and every attempt as it ends."""
        ctx = call_context(request)
        attempt = (ctx.attempt or 1) if ctx is not None else 1
        if self.on_retry is not None and ctx is not None and attempt > 1 and ctx.history:
            previous = ctx.history[-1]
            if previous.outcome != "success":  # not a redirect hop
                _fire(
                    self.on_retry,
                    RetryEvent(
                        *_who(request, ctx),
                        attempt=attempt,
                        delay=previous.delay,
                        previous_outcome=previous.outcome,
                        previous_status=previous.status,
                        previous_error_type=previous.error,
                    ),
                )
        if self.on_attempt is None:
            return await call_next(request)
        started = time.perf_counter()
        try:
            response = await call_next(request)
        except Exception as exc:
            _fire(self.on_attempt, _attempt(request, ctx, attempt, None, type(exc).__name__, started))
            raise
        _fire(self.on_attempt, _attempt(request, ctx, attempt, response.status_code, None, started))
        return response

    def __repr__(self) -> str:
        return f"AttemptHooksPolicy(on_attempt={self.on_attempt!r}, on_retry={self.on_retry!r})"


def _who(request: httpx.Request, ctx: CallContext | None) -> tuple[str | None, str, str, str]:
    request_id = ctx.request_id if ctx is not None else None
    return request_id, request.method, redact_url(request.url), request.url.host


def _attempt(
    request: httpx.Request,
    ctx: CallContext | None,
    attempt: int,
    status: int | None,
    error: str | None,
    started: float,
) -> AttemptEvent:
    return AttemptEvent(
        *_who(request, ctx),
        attempt=attempt,
        status=status,
        error_type=error,
        elapsed=time.perf_counter() - started,
    )


def _giveup(request: httpx.Request, status: int | None, error: str | None) -> GiveUpEvent:
    ctx = call_context(request)
    records = ctx.history if ctx is not None else []
    return GiveUpEvent(
        *_who(request, ctx),
        attempts=len(records),
        status=status,
        error_type=error,
        reason=records[-1].note if records else None,
        total_delay=sum(record.delay for record in records),
    )


def _fire(hook: Hook, event: object) -> None:
    try:
        hook(event)
    except Exception:
        logger.exception("observability hook %r raised; the request goes on", hook)
