"""AttemptTimeoutPolicy: a bound on one attempt, whole (connect, send, wait, read), under the call's deadline."""

from __future__ import annotations

import anyio
import httpx
from pydantic import BaseModel, ConfigDict, Field

from ..pipeline._base import CallNext
from ._config import build_config

__all__ = ["AttemptTimeoutConfig", "AttemptTimeoutPolicy"]


class AttemptTimeoutConfig(BaseModel):
    """`timeout`: seconds one attempt may take in all (httpx's timeouts bound each phase, not the sum)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timeout: float = Field(10.0, gt=0, description="seconds one attempt may take")


class AttemptTimeoutPolicy:
    """A per-retry policy: an attempt that takes longer than `timeout` is cancelled and raises
    `httpx.ReadTimeout` — an "unknown" outcome, so the retry policy retries it for idempotent requests and
    the circuit breaker counts it as a failure.

    Raises:
        ConfigurationError: (at construction) a bad value, naming the argument.
        httpx.ReadTimeout: (from a call) the attempt took longer than `timeout`.
    """

    __slots__ = ("_timeout", "config")

    def __init__(self, config: AttemptTimeoutConfig | None = None, *, timeout: float | None = None) -> None:
        self.config = build_config("AttemptTimeoutPolicy", AttemptTimeoutConfig, config, {"timeout": timeout})
        self._timeout = self.config.timeout

    async def __call__(self, request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
        """Send `request`; cancel it past `timeout`."""
        # A bare CancelScope: move_on_after wraps it in a generator context manager (µs per attempt).
        with anyio.CancelScope(deadline=anyio.current_time() + self._timeout) as scope:
            return await call_next(request)
        assert scope.cancelled_caught
        raise httpx.ReadTimeout(f"the attempt took longer than {self._timeout:g}s", request=request)

    def __repr__(self) -> str:
        return f"AttemptTimeoutPolicy(timeout={self._timeout:g}s)"
