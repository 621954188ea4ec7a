"""RetryPolicy: the configured entry of the retry loop; the mechanism is `_loop`, the decisions `_decisions`.

The first attempt runs here, directly: a call that succeeds never touches tenacity. Any other outcome goes
to `_loop.run_retries`, which drives the shared tenacity `Retrying` (see `_loop`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
from pydantic import ValidationError

from ... import _time
from ..._exceptions import ConfigurationError
from .._base import CallNext
from .._context import CONTEXT_KEY, CallContext
from ._config import RetryConfig
from ._loop import Call, new_retrying, run_retries

if TYPE_CHECKING:
    from ...resilience._budget import RetryBudget

__all__ = ["RetryPolicy"]

_ARGUMENT_OF = {
    "total": "retry_total",
    "connect": "retry_connect",
    "read": "retry_read",
    "status": "retry_status",
    "backoff_factor": "retry_backoff_factor",
    "backoff_max": "retry_backoff_max",
    "mode": "retry_mode",
    "status_codes": "retry_on_status_codes",
    "jitter": "retry_jitter",
    "retry_after_max": "retry_after_max",
    "timeout": "timeout",
}
"""The keyword argument of each RetryConfig field (named in errors)."""


class RetryPolicy:
    """Retries transient failures with capped, jittered exponential backoff, under one deadline per call.

    `RetryPolicy(retry_total=5, retry_backoff_factor=0.5, ...)` takes the reference page's keyword names;
    `RetryPolicy(config)` a RetryConfig (keywords then override its fields). The decisions are DESIGN.md's:
    the outcome and the method decide, Retry-After is honoured within `retry_after_max` and the time left,
    bodies that cannot be replayed are not resent, discarded responses are closed before the next attempt.
    A call's `retry=` option replaces the config for that call. The policy holds no per-call state.
    `budget=` (a `pipework.RetryBudget`, optional) is consulted before every retry: exhausted, the last
    result is returned at once (history note and log: "retry budget exhausted").

    Raises:
        ConfigurationError: (at construction) a bad value, naming the keyword argument at fault.
    """

    __slots__ = ("_budget", "_retrying", "config")

    def __init__(
        self,
        config: RetryConfig | None = None,
        *,
        retry_total: int | None = None,
        retry_connect: int | None = None,
        retry_read: int | None = None,
        retry_status: int | None = None,
        retry_backoff_factor: float | None = None,
        retry_backoff_max: float | None = None,
        retry_mode: str | None = None,
        retry_on_status_codes: Any = None,
        retry_jitter: float | str | None = None,
        retry_after_max: float | None = None,
        timeout: float | None = None,
        budget: RetryBudget | None = None,
    ) -> None:
        if config is not None and not isinstance(config, RetryConfig):
            raise ConfigurationError(f"RetryPolicy config must be a RetryConfig, got {type(config).__name__}")
        if budget is not None and not (
            callable(getattr(budget, "deposit", None)) and callable(getattr(budget, "try_withdraw", None))
        ):
            raise ConfigurationError(f"RetryPolicy budget must be a RetryBudget, got {type(budget).__name__}")
        given = {
            "total": retry_total,
            "connect": retry_connect,
            "read": retry_read,
            "status": retry_status,
            "backoff_factor": retry_backoff_factor,
            "backoff_max": retry_backoff_max,
            "mode": retry_mode,
            "status_codes": retry_on_status_codes,
            "jitter": retry_jitter,
            "retry_after_max": retry_after_max,
            "timeout": timeout,
        }
        updates = {field: value for field, value in given.items() if value is not None}
        base = config or RetryConfig()
        if updates:
            try:
                base = RetryConfig.model_validate({**base.model_dump(exclude_defaults=True), **updates})
            except ValidationError as exc:
                first = exc.errors()[0]
                field = str(first["loc"][0]) if first["loc"] else ""
                raise ConfigurationError(
                    f"RetryPolicy {_ARGUMENT_OF.get(field, field) or 'arguments'}: {first['msg']}"
                ) from exc
        self.config = base
        self._budget = budget  # optional: first attempts deposit, retries withdraw
        self._retrying = new_retrying()  # one for every call (thread-local state; see new_retrying)

    async def __call__(self, request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
        """Send `request`, retrying as the config allows; see the class docstring."""
        ctx = request.extensions.get(CONTEXT_KEY)
        if not isinstance(ctx, CallContext):  # used under a plain httpx client: it reads bodies itself
            ctx = request.extensions[CONTEXT_KEY] = CallContext(stream=True)
        config = ctx.retry or self.config
        clock = _time.clock()
        if ctx.deadline is None:
            budget = ctx.timeout_budget
            timeout = config.timeout if budget is None or budget > config.timeout else budget
            ctx.deadline = clock.now() + timeout
        if self._budget is not None:
            self._budget.deposit(request)
        call = Call(request, call_next, ctx, config, clock, self._budget)
        try:
            response = await call.attempt()
        except Exception as exc:
            if call.last_outcome == "fatal":
                raise
            return await run_retries(self._retrying, call, exc)
        if call.last_outcome == "success":
            return response
        return await run_retries(self._retrying, call, response)

    def __repr__(self) -> str:
        return f"RetryPolicy({self.config!r})"
