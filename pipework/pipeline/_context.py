"""The per-call context: one typed object in `request.extensions`, alive for the whole call.

`AsyncPipelineClient.send()` creates one `CallContext` per call and stores it under the extension key
`"pipework"`. Every retry and every redirect hop of that call sees the same object, so the deadline,
the attempt count, the history and the per-call overrides survive them; nothing is "popped on first use".
Policies shared between pipelines and concurrent calls keep their per-call state here, never on themselves.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import httpx

from .._exceptions import ConfigurationError
from .._redact import redact_url

if TYPE_CHECKING:
    from .retry._config import RetryConfig

__all__ = ["CONTEXT_KEY", "AttemptRecord", "CallContext", "CallOptions", "Outcome", "context_of", "history"]

CONTEXT_KEY = "pipework"

Outcome = Literal["success", "rejected", "not_sent", "unknown", "fatal"]
"""How an attempt ended: a good response; an error status the server sent; an error before the request
left (safe to resend); an error after it may have been processed; an error that retrying cannot fix."""


class CallOptions(TypedDict, total=False):
    """Per-call options accepted by `send()`, `request()` and the verb helpers of the clients."""

    retry: RetryConfig | None
    """Overrides the client's RetryConfig for this call: every attempt and every redirect hop."""
    follow_redirects: bool | None
    """False returns a 3xx as is; None uses the client's setting."""
    network_trace: bool | None
    """True logs full headers and bodies of every attempt of this call on `pipework.network` (redacted)."""
    raw_request_hook: Callable[[httpx.Request], Any] | None
    """Called with the request of every attempt, after authentication (sync or async)."""
    raw_response_hook: Callable[[httpx.Response], Any] | None
    """Called with the response of every attempt (sync or async)."""
    request_id: str | None
    """The correlation id of this call (otherwise one is generated)."""
    extras: dict[str, Any] | None
    """Free-form per-call data for custom policies (read it from `context_of(request).extras`)."""
    timeout_budget: float | None
    """Seconds this whole call may take (attempts, sleeps, server waits); the retry policy's deadline is the
    earlier of this and RetryConfig.timeout (e.g. the time an inbound request has left)."""


@dataclasses.dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One attempt of a call: how it ended and how long the policy waited after it."""

    number: int
    """1 for the first attempt of the call; counts across redirect hops."""
    method: str
    raw_url: httpx.URL = dataclasses.field(repr=False)
    """The URL as sent (may hold secrets: show `url` instead)."""
    outcome: Outcome
    status: int | None
    error: str | None
    """The exception's class name when the attempt raised."""
    elapsed: float
    """Seconds the attempt took."""
    delay: float = 0.0
    """Seconds slept after this attempt before the next one (0 for the last)."""
    note: str | None = None
    """Why the policy stopped or waited as it did (e.g. "body not replayable", "budget exhausted")."""

    @property
    def url(self) -> str:
        """The URL with secrets redacted."""
        return redact_url(self.raw_url)


@dataclasses.dataclass(slots=True, eq=False)
class CallContext:
    """State of one call (all attempts and hops). Read it with `context_of(request_or_response_or_error)`."""

    stream: bool = False
    retry: RetryConfig | None = None
    follow_redirects: bool | None = None
    network_trace: bool | None = None
    raw_request_hook: Callable[[httpx.Request], Any] | None = None
    raw_response_hook: Callable[[httpx.Response], Any] | None = None
    request_id: str | None = None
    extras: dict[str, Any] | None = None
    timeout_budget: float | None = None
    deadline: float | None = None
    """Monotonic time (`pipework` clock) by which the whole call must end; set by the retry policy."""
    attempt: int = 0
    """The number of the attempt in flight (1-based), counted across hops."""
    history: list[AttemptRecord] = dataclasses.field(default_factory=list)
    redirects: list[httpx.Response] = dataclasses.field(default_factory=list)
    """The 3xx responses followed so far, oldest first."""
    trusted_origins: frozenset[str] | None = None
    """Origins ("scheme://host:port") whose requests may carry credentials in this call; None (the call has
    not left its first origin) means any. Set by RedirectPolicy on a cross-origin hop; authentication
    policies check it with `pipework.pipeline.credentials_allowed(request)`."""

    @classmethod
    def from_options(cls, stream: bool, options: Mapping[str, Any]) -> CallContext:
        """Build the context of a new call.

        Raises:
            TypeError: an option name that is not a per-call option (the message names it).
            ConfigurationError: an option of the wrong type or value (named), before anything is sent.
        """
        if not options:
            return cls(stream)
        unknown = options.keys() - _OPTION_NAMES
        if unknown:
            raise TypeError(
                f"unexpected per-call option(s) {', '.join(sorted(map(repr, unknown)))}; "
                f"known: {', '.join(sorted(_OPTION_NAMES))}"
            )
        for name, value in options.items():
            if value is not None and not _valid_option(name, value):
                raise ConfigurationError(
                    f"per-call option {name} must be {_OPTION_EXPECTED[name]} or None, got {type(value).__name__}"
                    + (" NaN" if isinstance(value, float) and math.isnan(value) else "")
                )
        return cls(stream, **options)

    @property
    def retries(self) -> int:
        """How many attempts were retries (attempts after the first)."""
        return max(0, len(self.history) - 1)


_OPTION_NAMES = frozenset(CallOptions.__annotations__)
_OPTION_EXPECTED = {
    "retry": "a RetryConfig",
    "follow_redirects": "a bool",
    "network_trace": "a bool",
    "raw_request_hook": "a callable",
    "raw_response_hook": "a callable",
    "request_id": "a non-empty str",
    "extras": "a dict",
    "timeout_budget": "a number of seconds",
}


def _valid_option(name: str, value: object) -> bool:
    """Whether `value` (not None) fits per-call option `name`: checked when the call starts, not on the wire."""
    if name == "retry":
        from .retry._config import RetryConfig  # here: the retry package imports this module

        return isinstance(value, RetryConfig)
    if name in ("follow_redirects", "network_trace"):
        return isinstance(value, bool)
    if name in ("raw_request_hook", "raw_response_hook"):
        return callable(value)
    if name == "request_id":
        return isinstance(value, str) and bool(value)
    if name == "extras":
        return isinstance(value, dict)
    if name == "timeout_budget":  # 0 or less: the deadline has passed already (DeadlineExceededError)
        return isinstance(value, int | float) and not isinstance(value, bool) and not math.isnan(value)
    return True


def context_of(obj: httpx.Request | httpx.Response | BaseException) -> CallContext | None:
    """The call context behind a request, a response, or an error raised by a call (None if there is none)."""
    request: httpx.Request | None
    if isinstance(obj, httpx.Request):
        request = obj
    elif isinstance(obj, httpx.Response):
        request = obj._request
    else:
        request = getattr(obj, "_request", None)
        if request is None:
            response = getattr(obj, "response", None)
            request = response._request if isinstance(response, httpx.Response) else None
    if request is None:
        return None
    ctx = request.extensions.get(CONTEXT_KEY)
    return ctx if isinstance(ctx, CallContext) else None


def history(obj: httpx.Request | httpx.Response | BaseException) -> tuple[AttemptRecord, ...]:
    """The attempts of the call behind `obj` (a response, a request or an error), oldest first."""
    ctx = context_of(obj)
    return tuple(ctx.history) if ctx is not None else ()
