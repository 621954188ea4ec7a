"""BulkheadPolicy: at most N requests in flight per origin, a bounded queue behind them, then a clear refusal."""

from __future__ import annotations

import anyio
import httpx
from pydantic import BaseModel, ConfigDict, Field

from .._exceptions import BulkheadFullError
from ..pipeline._base import CallNext
from ._config import build_config
from ._window import OriginKey, origin_key, origin_name

__all__ = ["BulkheadConfig", "BulkheadPolicy"]


class BulkheadConfig(BaseModel):
    """`max_concurrent` requests in flight per origin; `max_queued` more may wait; the next one is refused.

    Raises:
        pydantic.ValidationError: (a ValueError) on construction with bad values.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_concurrent: int = Field(10, ge=1, description="requests in flight per origin")
    max_queued: int = Field(0, ge=0, description="requests allowed to wait for a slot (0: refuse at once)")


class _Compartment:
    __slots__ = ("limiter", "name", "queued")

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self.limiter = anyio.CapacityLimiter(size)  # created lazily, inside the running event loop
        self.queued = 0


class BulkheadPolicy:
    """Keeps one slow origin from taking every connection and task: per origin (scheme, host, port), an
    anyio CapacityLimiter of `max_concurrent` slots and a queue of at most `max_queued` waiters.

    Place it per call (one slot for all attempts of a call) or per retry (one slot per attempt). A policy
    instance belongs to one event loop (its limiters do).

    Raises:
        ConfigurationError: (at construction) a bad value, naming the argument.
        BulkheadFullError: (from a call) every slot is taken and the queue is full; nothing was sent.
    """

    __slots__ = ("_compartments", "config")

    def __init__(
        self,
        config: BulkheadConfig | None = None,
        *,
        max_concurrent: int | None = None,
        max_queued: int | None = None,
    ) -> None:
        self.config = build_config(
            "BulkheadPolicy",
            BulkheadConfig,
            config,
            {"max_concurrent": max_concurrent, "max_queued": max_queued},
        )
        self._compartments: dict[OriginKey, _Compartment] = {}

    def _compartment(self, url: httpx.URL) -> _Compartment:
        key = origin_key(url)
        compartment = self._compartments.get(key)
        if compartment is None:
            compartment = _Compartment(origin_name(key), self.config.max_concurrent)
            compartment = self._compartments.setdefault(key, compartment)
        return compartment

    async def __call__(self, request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
        """Send `request` once a slot of its origin is free; raise BulkheadFullError when none is in reach."""
        compartment = self._compartment(request.url)
        limiter = compartment.limiter
        borrower = object()  # one token per request, even when a task sends several at once
        try:
            limiter.acquire_on_behalf_of_nowait(borrower)
        except anyio.WouldBlock:
            if compartment.queued >= self.config.max_queued:
                raise BulkheadFullError(
                    f"{compartment.name}: {self.config.max_concurrent} request(s) in flight and "
                    f"{compartment.queued} queued (max_queued={self.config.max_queued})",
                    request=request,
                ) from None
            compartment.queued += 1
            try:
                await limiter.acquire_on_behalf_of(borrower)
            finally:
                compartment.queued -= 1
        try:
            return await call_next(request)
        finally:
            limiter.release_on_behalf_of(borrower)

    def in_flight(self, url: httpx.URL | str) -> tuple[int, int]:
        """(requests in flight, requests queued) for `url`'s origin."""
        compartment = self._compartments.get(origin_key(httpx.URL(url)))
        if compartment is None:
            return 0, 0
        return int(compartment.limiter.borrowed_tokens), compartment.queued

    def __repr__(self) -> str:
        c = self.config
        return f"BulkheadPolicy(max_concurrent={c.max_concurrent}, max_queued={c.max_queued})"
