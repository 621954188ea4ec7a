"""HedgingPolicy: for idempotent requests, a second attempt after a delay; the first good response wins."""

from __future__ import annotations

import logging
from typing import Self

import anyio
import httpx
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .. import _time
from .._body import is_replayable
from .._exceptions import ConfigurationError
from ..pipeline._base import CallNext
from ..pipeline._context import CONTEXT_KEY, CallContext
from ..pipeline.retry import IDEMPOTENT_METHODS, RetryConfig, classify_response
from ._budget import RetryBudget
from ._config import build_config
from ._window import OriginKey, origin_key

__all__ = ["HedgingConfig", "HedgingPolicy"]

logger = logging.getLogger("pipework.resilience")


class HedgingConfig(BaseModel):
    """`delay` seconds before each hedge (or, with `adaptive_delay`, the origin's observed `percentile`
    latency once `min_samples` are known), at most `max_hedges` hedges per attempt.

    Raises:
        pydantic.ValidationError: (a ValueError) on construction with bad values.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    delay: float = Field(0.05, gt=0, description="seconds before a hedge (the fallback when adaptive)")
    adaptive_delay: bool = Field(False, description="hedge after the origin's observed percentile latency")
    percentile: float = Field(95.0, gt=0, lt=100)
    min_samples: int = Field(20, ge=1, description="latencies needed before the percentile is used")
    samples: int = Field(200, ge=1, description="recent latencies kept per origin")
    max_hedges: int = Field(1, ge=1, le=8)

    @model_validator(mode="after")
    def _enough_samples(self) -> Self:
        if self.min_samples > self.samples:
            raise ValueError(f"min_samples ({self.min_samples}) is more than samples ({self.samples})")
        return self


class _Latencies:
    """A ring of recent latencies of one origin; the percentile is recomputed every 16 samples."""

    __slots__ = ("cached", "count", "index", "values")

    def __init__(self, size: int) -> None:
        self.values = [0.0] * size
        self.index = self.count = 0
        self.cached: float | None = None

    def add(self, seconds: float, config: HedgingConfig) -> None:
        self.values[self.index] = seconds
        self.index = (self.index + 1) % len(self.values)
        self.count += 1
        if self.count >= config.min_samples and (self.cached is None or self.count % 16 == 0):
            known = sorted(self.values[: min(self.count, len(self.values))])
            self.cached = known[min(len(known) - 1, int(len(known) * config.percentile / 100))]


class _Race:
    """One hedged attempt: the attempts in flight, the winner, the losers to close."""

    __slots__ = (
        "bad",
        "call_next",
        "clock",
        "errors",
        "in_flight",
        "request",
        "retry",
        "scope",
        "timer",
        "winner",
    )

    def __init__(
        self, request: httpx.Request, call_next: CallNext, retry: RetryConfig, clock: _time.Clock
    ) -> None:
        self.request, self.call_next, self.retry, self.clock = request, call_next, retry, clock
        self.winner: tuple[httpx.Response, float] | None = None
        self.bad: list[httpx.Response] = []
        self.errors: list[Exception] = []
        self.in_flight = 0
        self.scope: anyio.CancelScope | None = None
        self.timer: anyio.CancelScope | None = None

    async def attempt(self) -> None:
        started = self.clock.now()
        try:
            response = await self.call_next(self.request)
        except Exception as exc:
            self.errors.append(exc)
            self._done()
            return
        except BaseException:
            self.in_flight -= 1
            raise
        if self.winner is not None:
            self.in_flight -= 1
            await _close(response)
        elif classify_response(response, self.retry) == "success":
            self.in_flight -= 1
            self.winner = (response, self.clock.now() - started)
            assert self.scope is not None
            self.scope.cancel()  # the losers, and the timer of the next hedge
        else:
            self.bad.append(response)
            self._done()

    def _done(self) -> None:
        self.in_flight -= 1
        if self.in_flight == 0 and self.timer is not None:
            self.timer.cancel()  # nothing left in flight: stop waiting to hedge


async def _close(response: httpx.Response) -> None:
    with anyio.CancelScope(shield=True):
        await response.aclose()


class HedgingPolicy:
    """A per-retry policy cutting tail latency: when an idempotent attempt (GET, HEAD, PUT, DELETE, OPTIONS,
    TRACE, or any with an Idempotency-Key, replayable body) has not answered within the delay, the same
    request is sent again; the first good response (not a retried status) wins, the others are cancelled
    through the anyio task group and their responses and connections closed. Every hedge is withdrawn from
    `budget` (share the RetryPolicy's): when it is exhausted no hedge is sent.
    If every attempt fails, the first bad response is returned, else the first error is raised.

    Raises:
        ConfigurationError: (at construction) a bad value, naming the argument.
    """

    __slots__ = ("_budget", "_latencies", "_retry_config", "config")

    def __init__(
        self,
        config: HedgingConfig | None = None,
        *,
        delay: float | None = None,
        adaptive_delay: bool | None = None,
        max_hedges: int | None = None,
        budget: RetryBudget | None = None,
        retry_config: RetryConfig | None = None,
    ) -> None:
        self.config = build_config(
            "HedgingPolicy",
            HedgingConfig,
            config,
            {"delay": delay, "adaptive_delay": adaptive_delay, "max_hedges": max_hedges},
        )
        if budget is not None and not isinstance(budget, RetryBudget):
            raise ConfigurationError(
                f"HedgingPolicy budget must be a RetryBudget, got {type(budget).__name__}"
            )
        self._budget = budget
        self._retry_config = retry_config or RetryConfig()
        self._latencies: dict[OriginKey, _Latencies] = {}

    def delay_for(self, url: httpx.URL | str) -> float:
        """The delay before a hedge to `url`'s origin now."""
        config = self.config
        if config.adaptive_delay:
            latencies = self._latencies.get(origin_key(httpx.URL(url)))
            if latencies is not None and latencies.cached is not None:
                return latencies.cached
        return config.delay

    async def __call__(self, request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
        """Send `request`, hedging it when it is idempotent and slow."""
        if not (
            (request.method in IDEMPOTENT_METHODS or "idempotency-key" in request.headers)
            and is_replayable(request)
        ):
            return await call_next(request)
        ctx = request.extensions.get(CONTEXT_KEY)
        retry = ctx.retry if isinstance(ctx, CallContext) and ctx.retry is not None else self._retry_config
        clock = _time.clock()
        delay = self.delay_for(request.url)
        race = _Race(request, call_next, retry, clock)
        async with anyio.create_task_group() as group:
            race.scope = group.cancel_scope
            race.in_flight = 1
            group.start_soon(race.attempt)
            for hedge in range(self.config.max_hedges):
                with anyio.CancelScope() as timer:
                    race.timer = timer
                    await clock.sleep(delay)
                race.timer = None
                if race.in_flight == 0:
                    break
                if self._budget is not None and not self._budget.try_withdraw(request):
                    if logger.isEnabledFor(logging.DEBUG):
                        logger.debug(
                            "No hedge %d for request [%s]: retry budget exhausted", hedge + 1, request.method
                        )
                    break
                race.in_flight += 1
                group.start_soon(race.attempt)
        if race.winner is not None:
            response, latency = race.winner
            self._record(request.url, latency)
            for other in race.bad:
                await _close(other)
            return response
        if race.bad:
            for other in race.bad[1:]:
                await _close(other)
            return race.bad[0]
        raise race.errors[0]

    def _record(self, url: httpx.URL, latency: float) -> None:
        if not self.config.adaptive_delay:
            return
        key = origin_key(url)
        latencies = self._latencies.get(key)
        if latencies is None:
            latencies = self._latencies.setdefault(key, _Latencies(self.config.samples))
        latencies.add(latency, self.config)

    def __repr__(self) -> str:
        c = self.config
        delay = f"p{c.percentile:g} (fallback {c.delay:g}s)" if c.adaptive_delay else f"{c.delay:g}s"
        return f"HedgingPolicy(delay={delay}, max_hedges={c.max_hedges}, budget={self._budget!r})"
