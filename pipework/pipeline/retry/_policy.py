"""RetryPolicy: the retry loop (tenacity) around the pure decisions of `_decisions`.

The first attempt runs directly (a call that succeeds never touches tenacity). When it asks for a retry,
tenacity's state machine (`Retrying.iter`: retry? wait? stop? before-sleep?) drives the rest, with our
decision functions as its callbacks; the loop that awaits attempts and sleeps is ours, so only `Exception`s
feed the decision (a cancellation goes straight up) and tenacity never inspects a callback per step.
"""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING, Any

import anyio
import httpx
from pydantic import ValidationError
from tenacity import DoSleep, RetryCallState, Retrying, stop_never

from ... import _time
from ..._body import is_replayable
from ..._exceptions import ConfigurationError, DeadlineExceededError
from ..._redact import redact_url
from .._base import CallNext
from .._context import CONTEXT_KEY, AttemptRecord, CallContext, Outcome
from ._config import RetryConfig
from ._decisions import classify_error, classify_response, may_retry, plan_retry

if TYPE_CHECKING:
    from ...resilience._budget import RetryBudget

__all__ = ["RetryPolicy"]

logger = logging.getLogger("pipework.retry")

_KEYWORDS = {
    "retry_total": "total",
    "retry_connect": "connect",
    "retry_read": "read",
    "retry_status": "status",
    "retry_backoff_factor": "backoff_factor",
    "retry_backoff_max": "backoff_max",
    "retry_mode": "mode",
    "retry_on_status_codes": "status_codes",
    "retry_jitter": "jitter",
    "retry_after_max": "retry_after_max",
    "timeout": "timeout",
}
_ARGUMENT_OF = {field: keyword for keyword, field in _KEYWORDS.items()}


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
            "retry_total": retry_total,
            "retry_connect": retry_connect,
            "retry_read": retry_read,
            "retry_status": retry_status,
            "retry_backoff_factor": retry_backoff_factor,
            "retry_backoff_max": retry_backoff_max,
            "retry_mode": retry_mode,
            "retry_on_status_codes": retry_on_status_codes,
            "retry_jitter": retry_jitter,
            "retry_after_max": retry_after_max,
            "timeout": timeout,
        }
        updates = {_KEYWORDS[name]: value for name, value in given.items() if value is not None}
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
        # One Retrying for every call: tenacity keeps its loop state (iter_state, statistics) thread-local,
        # and `iter()` runs our callbacks to completion without awaiting, so two calls in one thread never
        # interleave inside it. (A copy per retried call cost ~2.5 µs; the statistics are never read.)
        self._retrying = Retrying(
            sleep=_never_sleep,  # we await the clock's sleep ourselves
            stop=stop_never,
            retry=_decide,
            wait=_planned_wait,
            before_sleep=_before_sleep,
            reraise=True,
        )

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
        call = _Call(request, call_next, ctx, config, clock)
        if self._budget is not None:
            self._budget.deposit(request)
            call.budget = self._budget
        try:
            response = await call.attempt()
        except Exception as exc:
            if call.last_outcome == "fatal":
                raise
            return await self._retry(call, exc)
        if call.last_outcome == "success":
            return response
        return await self._retry(call, response)

    async def _retry(self, call: _Call, first: httpx.Response | Exception) -> httpx.Response:
        """The loop after a first attempt that may be retried: tenacity decides, we attempt and sleep.

        Raises:
            Exception: the last attempt's error when the decision is to stop (re-raised by tenacity).
        """
        retrying = self._retrying
        retrying.begin()  # (re)creates this thread's statistics, which tenacity's iter() updates
        state = RetryCallState(retrying, fn=call.attempt, args=(), kwargs={})
        _settle(state, first)
        while True:
            action = retrying.iter(state)  # returns the response, raises the error, or says how long to sleep
            if not isinstance(action, DoSleep):
                assert isinstance(action, httpx.Response)  # every state is settled: never DoAttempt
                return action
            await call.discard(state)
            state.prepare_for_next_attempt()
            await call.clock.sleep(action)
            outcome: httpx.Response | Exception
            try:
                response = await call.attempt()
            except Exception as exc:
                outcome = exc
            else:
                if call.last_outcome == "success":  # tenacity's answer to a success is always "return it"
                    return response
                outcome = response
            _settle(state, outcome)

    def __repr__(self) -> str:
        return f"RetryPolicy({self.config!r})"


class _Call:
    """The state of one hop of one call: counters, the planned delay, the outcome waiting to be replayed."""

    __slots__ = (
        "budget", "call_next", "clock", "config", "ctx", "delay", "last_outcome", "request", "retries",
        "timeouts", "used",
    )  # fmt: skip

    def __init__(
        self,
        request: httpx.Request,
        call_next: CallNext,
        ctx: CallContext,
        config: RetryConfig,
        clock: _time.Clock,
    ) -> None:
        self.request = request
        self.call_next = call_next
        self.ctx = ctx
        self.config = config
        self.clock = clock
        self.timeouts: dict[str, float | None] | None = request.extensions.get("timeout")
        self.retries = 0
        self.used: dict[Outcome, int] = {"not_sent": 0, "unknown": 0, "rejected": 0}
        self.delay = 0.0
        self.last_outcome: Outcome = "success"
        self.budget: RetryBudget | None = None

    async def attempt(self) -> httpx.Response:
        """One attempt under the time left; records it in the history."""
        ctx, request = self.ctx, self.request
        assert ctx.deadline is not None
        remaining = ctx.deadline - self.clock.now()
        if remaining <= 0:
            self.last_outcome = "fatal"
            raise DeadlineExceededError(
                f"the call's deadline passed before attempt {ctx.attempt + 1} could start", request=request
            )
        self._shrink_timeouts(remaining)
        ctx.attempt += 1
        started = time.perf_counter()
        response: httpx.Response | None = None
        try:
            # The attempt never outlives the call's deadline. (A bare CancelScope: move_on_after/fail_after
            # wrap the same scope in generator context managers, ~4 µs more per attempt on asyncio, ~10 on trio.)
            with anyio.CancelScope(deadline=anyio.current_time() + remaining) as scope:
                response = await self.call_next(request)
        except Exception as exc:
            if isinstance(exc, httpx.TimeoutException) and self.clock.now() >= ctx.deadline - 0.001:
                self._record("fatal", None, exc, started)
                raise DeadlineExceededError(
                    f"the call's deadline passed during attempt {ctx.attempt}", request=request
                ) from exc
            self._record(classify_error(exc), None, exc, started)
            raise
        if response is None or scope.cancelled_caught:
            if response is not None:  # finished in the same instant the deadline passed: still too late
                await response.aclose()
            self._record("fatal", None, None, started, error="DeadlineExceededError")
            raise DeadlineExceededError(
                f"the call's deadline passed during attempt {ctx.attempt}", request=request
            )
        self._record(classify_response(response, self.config), response.status_code, None, started)
        return response

    def _shrink_timeouts(self, remaining: float) -> None:
        timeouts = self.timeouts
        if timeouts is None:
            return
        extensions = self.request.extensions
        for limit in timeouts.values():  # a plain loop: any(<genexpr>) costs a generator per attempt
            if limit is None or limit > remaining:
                extensions["timeout"] = {
                    key: remaining if value is None or value > remaining else value
                    for key, value in timeouts.items()
                }
                return
        if extensions.get("timeout") is not timeouts:
            extensions["timeout"] = timeouts

    def _record(
        self,
        outcome: Outcome,
        status: int | None,
        exc: BaseException | None,
        started: float,
        error: str | None = None,
    ) -> None:
        self.last_outcome = outcome
        self.ctx.history.append(
            AttemptRecord(
                number=self.ctx.attempt,
                method=self.request.method,
                raw_url=self.request.url,
                outcome=outcome,
                status=status,
                error=type(exc).__name__ if exc is not None else error,
                elapsed=time.perf_counter() - started,
            )
        )

    def decide(self, state: RetryCallState) -> bool:
        """Whether to retry the outcome in `state`; plans the delay as a side effect."""
        outcome = self.last_outcome
        failure = state.outcome.exception() if state.outcome is not None and state.outcome.failed else None
        if outcome in ("success", "fatal"):
            if isinstance(failure, DeadlineExceededError):
                self._give_up("the call's deadline passed", logging.WARNING)
            return False
        request = self.request
        response = None if state.outcome is None or failure is not None else state.outcome.result()
        if not may_retry(
            outcome,
            request.method,
            request.headers,
            response.status_code if response is not None else None,
            response.headers if response is not None else None,
        ):
            self._give_up(
                f"{outcome} outcome is not retried for {request.method} without an Idempotency-Key",
                logging.INFO,
            )
            return False
        why = self._refusal(outcome)
        if why is None:
            assert self.ctx.deadline is not None
            remaining = self.ctx.deadline - self.clock.now()
            headers = response.headers if response is not None else None
            delay, why = plan_retry(self.config, self.retries, headers, remaining, time.time())
            if delay is not None:
                # Whole milliseconds, rounded up (never wake before the server asked): what is logged is slept.
                rounded = math.ceil(delay * 1000 - 1e-6) / 1000
                self.delay = rounded if rounded < remaining else delay
                self.retries += 1
                self.used[outcome] += 1
                return True
        self._give_up(why, logging.WARNING)
        return False

    def _refusal(self, outcome: Outcome) -> str | None:
        """Why this outcome may not be retried now (None: it may). Extra limits (e.g. a retry budget) go here."""
        config = self.config
        if self.retries >= config.total:
            return f"retries exhausted (total={config.total})"
        cap = (
            config.connect
            if outcome == "not_sent"
            else config.read
            if outcome == "unknown"
            else config.status
        )
        if cap is not None and self.used[outcome] >= cap:
            return f"{outcome} retries exhausted ({cap})"
        if not is_replayable(self.request):
            return "the request body is a one-shot stream and cannot be sent again"
        if self.budget is not None and not self.budget.try_withdraw(self.request):
            return "retry budget exhausted"
        return None

    def _give_up(self, why: str, level: int) -> None:
        self._note(why)
        if logger.isEnabledFor(level):
            request = self.request
            logger.log(
                level,
                "Giving up on request [%s] %s after %d attempt(s): %s",
                request.method,
                redact_url(request.url),
                self.retries + 1,
                why,
                extra={"request_id": self.ctx.request_id},
            )

    def _note(self, note: str, delay: float = 0.0) -> None:
        history = self.ctx.history
        if history:  # the constructor, not dataclasses.replace (which inspects the fields on every call)
            last = history[-1]
            history[-1] = AttemptRecord(  # every field (a test keeps this list in step with the class)
                number=last.number,
                method=last.method,
                raw_url=last.raw_url,
                outcome=last.outcome,
                status=last.status,
                error=last.error,
                elapsed=last.elapsed,
                delay=delay,
                note=note,
            )

    async def discard(self, state: RetryCallState) -> None:
        """Close the response about to be retried (its connection goes back to the pool first)."""
        if state.outcome is not None and not state.outcome.failed:
            await state.outcome.result().aclose()

    def before_sleep(self, state: RetryCallState) -> None:
        """Note the delay in the history, write the reference page's two log lines."""
        self._note("retried", self.delay)
        if logger.isEnabledFor(logging.INFO):
            logger.info(
                "Retry attempt %d for request [%s] %s",
                self.retries,
                self.request.method,
                redact_url(self.request.url),
                extra={"request_id": self.ctx.request_id},
            )
            logger.info(
                "Waiting %s seconds before retry",
                f"{self.delay:g}",
                extra={"request_id": self.ctx.request_id},
            )


def _call_of(state: RetryCallState) -> _Call:
    call = state.fn.__self__  # type: ignore[union-attr]
    assert isinstance(call, _Call)
    return call


def _decide(state: RetryCallState) -> bool:
    return _call_of(state).decide(state)


def _planned_wait(state: RetryCallState) -> float:
    return _call_of(state).delay


def _before_sleep(state: RetryCallState) -> None:
    _call_of(state).before_sleep(state)


def _never_sleep(seconds: float) -> None:
    raise AssertionError("RetryPolicy sleeps through the pipework clock, never through tenacity")


def _settle(state: RetryCallState, outcome: httpx.Response | Exception) -> None:
    if isinstance(outcome, Exception):
        state.set_exception((type(outcome), outcome, outcome.__traceback__))
    else:
        state.set_result(outcome)
