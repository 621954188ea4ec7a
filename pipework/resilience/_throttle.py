"""AdaptiveThrottlePolicy: client-side rejection while an origin keeps refusing (Google SRE book, ch. 21)."""

from __future__ import annotations

import logging
import random

import httpx
from pydantic import BaseModel, ConfigDict, Field

from .. import _time
from .._exceptions import ThrottledError
from ..pipeline._base import CallNext
from ._config import build_config
from ._window import OriginKey, SlidingCounter, origin_key, origin_name

__all__ = ["AdaptiveThrottleConfig", "AdaptiveThrottlePolicy", "rejection_probability"]

logger = logging.getLogger("pipework.resilience")


def rejection_probability(requests: float, accepts: float, k: float) -> float:
    """The SRE formula `max(0, (requests - k * accepts) / (requests + 1))`."""
    return max(0.0, (requests - k * accepts) / (requests + 1.0))


class AdaptiveThrottleConfig(BaseModel):
    """`k` (2: the origin may refuse up to half of what it gets before the client sheds anything), the
    `window` of history, and the statuses that mean "refused" (any other response is an accept).

    Raises:
        pydantic.ValidationError: (a ValueError) on construction with bad values.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    k: float = Field(2.0, ge=1, description="multiplier of accepts; lower sheds more eagerly")
    window: float = Field(120.0, gt=0, description="seconds of history per origin")
    refused_statuses: frozenset[int] = frozenset({429, 503})
    seed: int | None = Field(None, description="seed of the rejection draws (tests)")


class AdaptiveThrottlePolicy:
    """Opt-in, per attempt: drops a request locally with the SRE probability computed from the origin's
    recent requests (locally dropped ones included) and accepts (responses not in `refused_statuses`;
    errors accept nothing). An origin that recovers is used again as accepts come back.

    Raises:
        ConfigurationError: (at construction) a bad value, naming the argument.
        ThrottledError: (from a call) the request was dropped on the client; nothing was sent.
    """

    __slots__ = ("_k", "_origins", "_random", "config")

    def __init__(self, config: AdaptiveThrottleConfig | None = None, *, k: float | None = None) -> None:
        self.config = build_config("AdaptiveThrottlePolicy", AdaptiveThrottleConfig, config, {"k": k})
        self._k = self.config.k
        self._random = random.Random(self.config.seed)
        self._origins: dict[OriginKey, SlidingCounter] = {}

    def _counter(self, url: httpx.URL) -> SlidingCounter:
        key = origin_key(url)
        counter = self._origins.get(key)
        if counter is None:
            counter = self._origins.setdefault(key, SlidingCounter(self.config.window))
        return counter

    async def __call__(self, request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
        """Drop `request` with the current probability, else send it and count the answer."""
        counter = self._counter(request.url)
        clock = _time.clock()
        now = clock.now()
        requests, accepts = counter.totals(now)
        counter.add(now, 1.0)
        probability = rejection_probability(requests, accepts, self._k)
        if probability > 0.0 and self._random.random() < probability:
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "Throttled a request to %s (p=%.2f)", origin_name(origin_key(request.url)), probability
                )
            raise ThrottledError(
                f"{origin_name(origin_key(request.url))} refused most recent requests: dropped on the client "
                f"(probability {probability:.2f})",
                request=request,
            )
        response = await call_next(request)
        if response.status_code not in self.config.refused_statuses:
            counter.add(clock.now(), 0.0, 1.0)
        return response

    def probability(self, url: httpx.URL | str) -> float:
        """The rejection probability of `url`'s origin now."""
        requests, accepts = self._counter(httpx.URL(url)).totals(_time.clock().now())
        return rejection_probability(requests, accepts, self._k)

    def __repr__(self) -> str:
        c = self.config
        return f"AdaptiveThrottlePolicy(k={c.k:g}, window={c.window:g}s, refused_statuses={sorted(c.refused_statuses)})"
