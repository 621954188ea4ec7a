"""The retry mechanism of one call: attempts under the deadline, the history, and the tenacity wiring.

`RetryPolicy` makes the first attempt itself (a call that succeeds never touches tenacity) and hands any
other outcome to `run_retries`. From there tenacity's state machine (`Retrying.iter`: retry? wait? stop?
before-sleep?) decides, with `Call`'s methods as its callbacks; the loop that awaits attempts and sleeps is
ours, so only `Exception`s feed the decision (a cancellation goes straight up) and tenacity never inspects
a callback per step. The decisions themselves are the pure functions of `_decisions`.
"""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING

import anyio
import httpx
from tenacity import DoSleep, Future, RetryCallState, Retrying, stop_never

from ... import _time
from ..._body import is_replayable
from ..._exceptions import DeadlineExceededError
from ..._redact import redact_url
from .._base import CallNext
from .._context import AttemptRecord, CallContext, Outcome
from .._deadline import enforces_deadline, passed
from ._config import RetryConfig
from ._decisions import classify_error, classify_response, may_retry, plan_retry

if TYPE_CHECKING:
    from ...resilience._budget import RetryBudget

__all__ = ["Call", "new_retrying", "run_retries"]

logger = logging.getLogger("pipework.retry")

# The RetryConfig field capping the retries of each retryable outcome.
_CAP_OF: dict[Outcome, str] = {"not_sent": "connect", "unknown": "read", "rejected": "status"}


class Call:
    """The state of one hop of one call: counters, the planned delay, the last attempt's outcome."""

    __slots__ = (
        "budget", "call_next", "clock", "config", "ctx", "delay", "enforced", "last_outcome", "pending",
        "request", "retries", "timeouts", "used",
    )  # fmt: skip

    def __init__(
        self, request: httpx.Request, call_next: CallNext, ctx: CallContext, config: RetryConfig,
        clock: _time.Clock, budget: RetryBudget | None,
    ) -> None:  # fmt: skip
        self.request = request
        self.call_next = call_next
        self.enforced = enforces_deadline(call_next)
        self.ctx = ctx
        self.config = config
        self.clock = clock
        self.budget = budget
        self.timeouts: dict[str, float | None] | None = request.extensions.get("timeout")
        self.retries = 0
        self.used: dict[Outcome, int] = {"not_sent": 0, "unknown": 0, "rejected": 0}
        self.delay = 0.0
        self.last_outcome: Outcome = "success"
        # A retryable attempt's (number, status, error, elapsed) until its note: its one record has the note.
        self.pending: tuple[int, int | None, str | None, float] | None = None

    async def attempt(self) -> httpx.Response:
        """One attempt under the time left; records it in the history.

        Raises:
            DeadlineExceededError: the call's deadline passed before or during the attempt.
            Exception: the attempt's own error (classified in `last_outcome`).
        """
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
        late = False
        try:
            if (
                self.enforced
            ):  # the chain below ends the attempt by the deadline itself (see pipeline/_deadline)
                response = await self.call_next(request)
            else:
                # The attempt never outlives the call's deadline. (A bare CancelScope: move_on_after/fail_after
                # wrap the same scope in generator context managers, ~4 µs more on asyncio, ~10 on trio.)
                with anyio.CancelScope(deadline=anyio.current_time() + remaining) as scope:
                    response = await self.call_next(request)
                late = scope.cancelled_caught
        except Exception as exc:
            if isinstance(exc, httpx.TimeoutException) and self.clock.now() >= ctx.deadline - 0.001:
                self._record("fatal", None, type(exc).__name__, started)
                raise passed(request) from exc
            self._record(classify_error(exc), None, type(exc).__name__, started)
            raise
        if response is None or late:
            if response is not None:  # finished in the same instant the deadline passed: still too late
                await response.aclose()
            self._record("fatal", None, "DeadlineExceededError", started)
            raise passed(request)
        self._record(classify_response(response, self.config), response.status_code, None, started)
        return response

    def _shrink_timeouts(self, remaining: float) -> None:
        """Cap the request's httpx timeouts at the time left (the original ones again once they fit)."""
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

    def _record(self, outcome: Outcome, status: int | None, error: str | None, started: float) -> None:
        self.last_outcome = outcome
        if outcome == "success" or outcome == "fatal":  # final: in the history at once
            self._append(self.ctx.attempt, outcome, status, error, time.perf_counter() - started)
        else:  # retryable: it always ends in a note, so it is recorded then, once (`_note`)
            self.pending = (self.ctx.attempt, status, error, time.perf_counter() - started)

    def _append(
        self, number: int, outcome: Outcome, status: int | None, error: str | None, elapsed: float,
        delay: float = 0.0, note: str | None = None,
    ) -> None:  # fmt: skip
        request = self.request  # every field, in order (a test keeps this list in step with the class)
        self.ctx.history.append(
            AttemptRecord(number, request.method, request.url, outcome, status, error, elapsed, delay, note)
        )

    def decide(self, state: RetryCallState) -> bool:
        """Whether to retry the settled outcome in `state`; plans the delay as a side effect."""
        outcome = self.last_outcome
        settled = state.outcome
        assert settled is not None
        if outcome == "fatal":  # (a success never reaches tenacity)
            if isinstance(settled.exception(), DeadlineExceededError):
                self._give_up("the call's deadline passed", logging.WARNING)
            return False
        request = self.request
        response = None if settled.failed else settled.result()
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
        cap: int | None = getattr(config, _CAP_OF[outcome])
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

    def _note(self, note: str | None, delay: float = 0.0) -> None:
        """Record the last attempt (pending, or already in the history) with a note and the delay slept after it."""
        if self.pending is not None:
            (number, status, error, elapsed), self.pending = self.pending, None
            self._append(number, self.last_outcome, status, error, elapsed, delay, note)
        elif self.ctx.history:  # rebuilt (dataclasses.replace inspects the fields on every call)
            last = self.ctx.history.pop()
            self._append(last.number, last.outcome, last.status, last.error, last.elapsed, delay, note)

    def before_sleep(self) -> None:
        """Note the delay in the history, write the reference page's two log lines."""
        self._note("retried", self.delay)
        if logger.isEnabledFor(logging.INFO):
            extra = {"request_id": self.ctx.request_id}
            logger.info(
                "Retry attempt %d for request [%s] %s",
                self.retries,
                self.request.method,
                redact_url(self.request.url),
                extra=extra,
            )
            logger.info("Waiting %s seconds before retry", f"{self.delay:g}", extra=extra)


def new_retrying() -> Retrying:
    """The policy's one Retrying, shared by all its calls.

    Sharing is safe: tenacity keeps its loop state (iter_state, statistics) thread-local, and `iter()` runs
    our callbacks to completion without awaiting, so two calls in one thread never interleave inside it.
    (A copy per retried call cost ~2.5 µs; the statistics are never read.)
    """
    return Retrying(
        sleep=_never_sleep,  # we await the clock's sleep ourselves
        stop=stop_never,
        retry=lambda state: _call_of(state).decide(state),
        wait=lambda state: _call_of(state).delay,
        before_sleep=lambda state: _call_of(state).before_sleep(),
        reraise=True,
    )


async def run_retries(retrying: Retrying, call: Call, first: httpx.Response | Exception) -> httpx.Response:
    """The loop after a first attempt that may be retried: tenacity decides, we attempt and sleep.

    Raises:
        Exception: the last attempt's error when the decision is to stop (re-raised by tenacity).
    """
    if "idle_for" not in retrying.statistics:  # once per thread: iter() adds to the statistics (never read)
        retrying.begin()
    state = RetryCallState(retrying, fn=call.attempt, args=(), kwargs={})
    outcome = first
    while True:
        state.outcome = _Settled(state.attempt_number, outcome)  # what set_result/set_exception would store
        state.outcome_timestamp = time.monotonic()
        try:
            action = retrying.iter(state)  # returns the response, raises the error, or says how long to sleep
        finally:
            if call.pending is not None:  # the decision ended without a note (it raised): record the attempt
                call._note(None)
        if not isinstance(action, DoSleep):
            assert isinstance(action, httpx.Response)  # every state is settled: never DoAttempt
            return action
        if isinstance(outcome, httpx.Response) and not outcome.is_closed:  # (a body read closes it)
            await outcome.aclose()  # closed before the next attempt: its connection goes back to the pool
        state.prepare_for_next_attempt()
        await call.clock.sleep(action)
        try:
            outcome = await call.attempt()
        except Exception as exc:
            outcome = exc
        else:
            if call.last_outcome == "success":  # tenacity's answer to a success is always "return it"
                return outcome


class _Settled(Future):
    """A settled attempt as tenacity reads it, without a `concurrent.futures.Future`'s lock and condition
    (~1.5 µs to make): nothing ever waits on it."""

    def __init__(self, attempt_number: int, outcome: httpx.Response | Exception) -> None:
        self.attempt_number = attempt_number  # (no super().__init__(): that is the lock and the condition)
        self._outcome = outcome

    failed = property(lambda self: isinstance(self._outcome, Exception))

    def done(self) -> bool:
        return True

    def result(self, timeout: float | None = None) -> httpx.Response:
        if isinstance(self._outcome, Exception):
            raise self._outcome
        return self._outcome

    def exception(self, timeout: float | None = None) -> Exception | None:
        return self._outcome if isinstance(self._outcome, Exception) else None

    def __repr__(self) -> str:
        return f"<attempt {self.attempt_number}: {self._outcome!r}>"


def _call_of(state: RetryCallState) -> Call:
    call = state.fn.__self__  # type: ignore[union-attr]
    assert isinstance(call, Call)
    return call


def _never_sleep(seconds: float) -> None:
    raise AssertionError("RetryPolicy sleeps through the pipework clock, never through tenacity")
