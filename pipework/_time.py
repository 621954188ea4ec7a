"""The clock every time-dependent policy reads, swappable for tests.

Retries, deadlines, breakers and budgets all ask `clock()` for "now" and "sleep": one mechanism, so
`pipework.testing.zero_wait()` (and a virtual clock) makes every policy's waits instant while the
decisions and the recorded delays stay exactly as in production.
"""

from __future__ import annotations

import time
from typing import Protocol

import anyio

__all__ = ["Clock", "MonotonicClock", "clock", "set_clock"]


class Clock(Protocol):
    """A source of monotonic time in seconds and a way to wait."""

    def now(self) -> float:
        """Seconds on a monotonic scale; only differences are meaningful."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` (cancellable)."""
        ...


class MonotonicClock:
    """The production clock: `time.monotonic` and `anyio.sleep` (asyncio and trio)."""

    __slots__ = ()
    now = staticmethod(time.monotonic)

    async def sleep(self, seconds: float) -> None:
        """Sleep for real, through anyio."""
        await anyio.sleep(seconds)

    def __repr__(self) -> str:
        return "MonotonicClock()"


_current: list[Clock] = [MonotonicClock()]


def clock() -> Clock:
    """The clock in force (production or a test's)."""
    return _current[0]


def set_clock(new: Clock) -> Clock:
    """Install `new` as the clock for every policy; returns the previous one (tests restore it)."""
    previous = _current[0]
    _current[0] = new
    return previous
