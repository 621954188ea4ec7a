"""RetryBudget: retries (and hedges) allowed only while they stay a small share of recent traffic per origin.

Why a ratio over a window with a floor (Finagle, tower) rather than a token bucket (gRPC, AWS SDKs): the
allowance grows and shrinks with the traffic actually sent, so one setting suits a client making 5 calls a
minute and one making 5,000 a second; the floor keeps rare callers able to retry; and a 100% failing origin
sees at most `1 + ratio` times the calls (plus the floor) instead of `1 + total` times. A token bucket needs
its size and refill tuned to the traffic, and charges every failure, not only the retries it lets through.
"""

from __future__ import annotations

import dataclasses

import httpx
from pydantic import BaseModel, ConfigDict, Field

from .. import _time
from ._config import build_config
from ._window import OriginKey, SlidingCounter, origin_key, origin_name

__all__ = ["BudgetStats", "RetryBudget", "RetryBudgetConfig"]


class RetryBudgetConfig(BaseModel):
    """How many retries a budget allows: `ratio` of the requests of the last `window` seconds, plus a floor
    of `min_retries_per_second` (so `min_retries_per_second * window` retries in any window) per origin.

    Raises:
        pydantic.ValidationError: (a ValueError) on construction with bad values.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    ratio: float = Field(0.2, ge=0, le=10, description="retries allowed per request sent (0.2 = 20%)")
    window: float = Field(10.0, gt=0, description="seconds of traffic the ratio applies to")
    min_retries_per_second: float = Field(
        10.0, ge=0, description="the floor, for origins with little traffic"
    )


@dataclasses.dataclass(frozen=True, slots=True)
class BudgetStats:
    """The state of one origin's budget over the current window (for metrics and tests)."""

    origin: str
    requests: float
    retries: float
    balance: float
    """Retries that may still be made now."""


class RetryBudget:
    """Shared by a RetryPolicy (and a HedgingPolicy): each first attempt deposits, each retry or hedge withdraws.

    `RetryPolicy(budget=RetryBudget())` consults it before each retry; when it is exhausted the last result
    is returned at once, noted as "retry budget exhausted" in the history and logged. State is per origin
    (scheme, host, port); time is read from `pipework`'s clock. Updates never await: safe under concurrency.

    Raises:
        ConfigurationError: (at construction) a bad value, naming the argument.
    """

    __slots__ = ("_origins", "_ratio", "_reserve", "_window", "config")

    def __init__(
        self,
        config: RetryBudgetConfig | None = None,
        *,
        ratio: float | None = None,
        window: float | None = None,
        min_retries_per_second: float | None = None,
    ) -> None:
        self.config = build_config(
            "RetryBudget",
            RetryBudgetConfig,
            config,
            {"ratio": ratio, "window": window, "min_retries_per_second": min_retries_per_second},
        )
        self._ratio = self.config.ratio
        self._window = self.config.window
        self._reserve = self.config.min_retries_per_second * self.config.window
        self._origins: dict[OriginKey, SlidingCounter] = {}

    def _counter(self, url: httpx.URL) -> SlidingCounter:
        key = origin_key(url)
        counter = self._origins.get(key)
        if counter is None:
            counter = self._origins.setdefault(key, SlidingCounter(self._window))
        return counter

    def deposit(self, request: httpx.Request) -> None:
        """Count a first attempt to `request`'s origin (earns `ratio` of a retry)."""
        self._counter(request.url).add(_time.clock().now(), self._ratio)

    def try_withdraw(self, request: httpx.Request) -> bool:
        """Take one retry from `request`'s origin; False (and nothing taken) when the budget is exhausted."""
        counter = self._counter(request.url)
        now = _time.clock().now()
        earned, spent = counter.totals(now)
        if self._reserve + earned - spent < 1.0 - 1e-9:  # ten deposits of 0.1 make one retry
            return False
        counter.add(now, 0.0, 1.0)
        return True

    def stats(self, url: httpx.URL | str) -> BudgetStats:
        """Requests, retries and the balance of `url`'s origin over the current window."""
        url = httpx.URL(url)
        earned, spent = self._counter(url).totals(_time.clock().now())
        requests = earned / self._ratio if self._ratio else 0.0
        return BudgetStats(origin_name(origin_key(url)), requests, spent, self._reserve + earned - spent)

    def reset(self) -> None:
        """Forget the traffic of every origin."""
        self._origins.clear()

    def __repr__(self) -> str:
        c = self.config
        return (
            f"RetryBudget(ratio={c.ratio:g}, window={c.window:g}s, "
            f"min_retries_per_second={c.min_retries_per_second:g}, origins={len(self._origins)})"
        )
