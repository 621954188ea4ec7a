"""In-process fault injection: a policy and a transport adding latency, errors, resets and statuses.

Faults follow a `script` (request n gets step n) and then seeded probabilities, so a failing test replays
exactly. Latency waits through `pipework`'s clock: under `zero_wait()` it is recorded, not slept.
"""

from __future__ import annotations

import collections
import random
from collections.abc import Awaitable, Callable
from typing import Literal, Self

import httpx
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .. import _time
from ..pipeline._base import CallNext
from ..resilience._config import build_config

__all__ = ["FaultConfig", "FaultInjectionPolicy", "FaultInjectionTransport", "FaultStep"]

FaultStep = Literal["pass", "error", "reset", "timeout"] | int | float
"""A script step: "pass" sends as is; "error" raises httpx.ConnectError (nothing sent); "reset" sends, drops the
response and raises httpx.ReadError; "timeout" sends, drops it and raises httpx.ReadTimeout; an int answers
that status without sending; a float waits that many seconds, then sends."""

_Send = Callable[[httpx.Request], Awaitable[httpx.Response]]


class FaultConfig(BaseModel):
    """What to inject: the `script` first, then, per request, `latency` with `latency_probability` and one
    of error / reset / status by their probabilities (which sum to at most 1), drawn from `seed`.

    Raises:
        pydantic.ValidationError: (a ValueError) on construction with bad values.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    script: tuple[FaultStep, ...] = ()
    latency: float = Field(0.0, ge=0, description="seconds added to a delayed request")
    latency_probability: float = Field(0.0, ge=0, le=1)
    error_probability: float = Field(0.0, ge=0, le=1, description="connect errors (request not sent)")
    reset_probability: float = Field(0.0, ge=0, le=1, description="resets after the request was sent")
    status_probability: float = Field(0.0, ge=0, le=1, description="`status` answered without sending")
    status: int = Field(503, ge=100, le=599)
    seed: int | None = None

    @model_validator(mode="after")
    def _probabilities(self) -> Self:
        total = self.error_probability + self.reset_probability + self.status_probability
        if total > 1.0 + 1e-9:
            raise ValueError(f"error, reset and status probabilities sum to {total:g}, more than 1")
        for step in self.script:
            if isinstance(step, int) and not isinstance(step, bool) and not 100 <= step <= 599:
                raise ValueError(f"script status {step} is not within 100-599")
        return self


class _Faults:
    """The shared mechanism: decide the fault of the next request, apply it around `send`."""

    __slots__ = ("_random", "config", "injected", "seen")

    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self._random = random.Random(config.seed)
        self.seen = 0
        self.injected: collections.Counter[str] = collections.Counter()
        """How many of each fault were injected ("latency", "error", "reset", "timeout", "status")."""

    def _next(self) -> tuple[float, FaultStep]:
        index, self.seen = self.seen, self.seen + 1
        config = self.config
        if index < len(config.script):
            step = config.script[index]
            if isinstance(step, float):
                return step, "pass"
            return 0.0, step
        draw = self._random.random
        latency = config.latency if config.latency and draw() < config.latency_probability else 0.0
        roll = draw()
        for action, probability in (
            ("error", config.error_probability),
            ("reset", config.reset_probability),
        ):
            if roll < probability:
                return latency, action  # type: ignore[return-value]
            roll -= probability
        return latency, config.status if roll < config.status_probability else "pass"

    async def apply(self, request: httpx.Request, send: _Send) -> httpx.Response:
        latency, step = self._next()
        if latency:
            self.injected["latency"] += 1
            await _time.clock().sleep(latency)
        if step == "pass":
            return await send(request)
        if isinstance(step, int):
            self.injected["status"] += 1
            return httpx.Response(step, request=request, headers={"x-pipework-fault": "status"})
        self.injected[str(step)] += 1
        if step == "error":
            raise httpx.ConnectError("injected fault: connection refused", request=request)
        response = await send(request)
        await response.aclose()
        if step == "reset":
            raise httpx.ReadError("injected fault: connection reset by peer", request=request)
        raise httpx.ReadTimeout("injected fault: read timed out", request=request)

    def describe(self) -> str:
        c = self.config
        parts = [f"script={len(c.script)} steps"] if c.script else []
        for name in ("latency_probability", "error_probability", "reset_probability", "status_probability"):
            if getattr(c, name):
                parts.append(f"{name}={getattr(c, name):g}")
        parts.append(f"seed={c.seed}")
        return ", ".join(parts)


def _faults(owner: str, config: FaultConfig | None, overrides: dict[str, object]) -> _Faults:
    return _Faults(build_config(owner, FaultConfig, config, overrides))


class _Counts:
    """What an injector did: `injected` counts each fault injected, `seen` the requests that came by."""

    __slots__ = ()
    _faults: _Faults

    @property
    def injected(self) -> collections.Counter[str]:
        """How many of each fault were injected."""
        return self._faults.injected

    @property
    def seen(self) -> int:
        """How many requests came by."""
        return self._faults.seen


class FaultInjectionPolicy(_Counts):
    """A policy injecting faults into the requests passing through it (place it per retry to fault
    single attempts). `injected` counts what was injected; `seen` the requests.

    Raises:
        ConfigurationError: (at construction) a bad value, naming the argument.
    """

    __slots__ = ("_faults",)

    def __init__(self, config: FaultConfig | None = None, **options: object) -> None:
        self._faults = _faults("FaultInjectionPolicy", config, options)

    async def __call__(self, request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
        """Send `request` with the next fault applied."""
        return await self._faults.apply(request, call_next)

    def __repr__(self) -> str:
        return f"FaultInjectionPolicy({self._faults.describe()})"


class FaultInjectionTransport(_Counts, httpx.AsyncBaseTransport):
    """A transport wrapping another (a real one, or a ScriptedTransport) and injecting faults below the chain.

    Raises:
        ConfigurationError: (at construction) a bad value, naming the argument.
    """

    def __init__(
        self, inner: httpx.AsyncBaseTransport, config: FaultConfig | None = None, **options: object
    ) -> None:
        self.inner = inner
        self._faults = _faults("FaultInjectionTransport", config, options)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` to the inner transport with the next fault applied."""
        return await self._faults.apply(request, self.inner.handle_async_request)

    async def aclose(self) -> None:
        """Close the inner transport."""
        await self.inner.aclose()

    def __repr__(self) -> str:
        return f"FaultInjectionTransport({type(self.inner).__name__}, {self._faults.describe()})"
