"""Virtual time for tests: waits are recorded and skipped, decisions and deadlines stay exact."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import anyio.lowlevel

from .. import _time

__all__ = ["VirtualClock", "zero_wait"]


class VirtualClock:
    """A clock whose sleeps return at once and move its time forward by the amount slept.

    `now()` is the real monotonic time plus everything slept (and `advance()`d), so deadlines, breakers
    and budgets see the waits they asked for. `sleeps` lists every wait, in order.
    With `frozen=True` the real time is left out: time moves only by sleeps and `advance()` (state
    machines tested step by step).
    """

    def __init__(self, *, frozen: bool = False) -> None:
        self.sleeps: list[float] = []
        self.offset = 0.0
        self._origin = time.monotonic()
        self._frozen = frozen

    def now(self) -> float:
        """Virtual monotonic seconds."""
        return (self._origin if self._frozen else time.monotonic()) + self.offset

    async def sleep(self, seconds: float) -> None:
        """Record `seconds`, advance, and yield to the event loop once (cancellation still works)."""
        self.sleeps.append(seconds)
        self.offset += max(0.0, seconds)
        await anyio.lowlevel.checkpoint()

    def advance(self, seconds: float) -> None:
        """Move virtual time forward without sleeping."""
        self.offset += seconds

    def __repr__(self) -> str:
        return f"VirtualClock(slept={sum(self.sleeps):g}s over {len(self.sleeps)} sleeps)"


@contextmanager
def zero_wait(*, frozen: bool = False) -> Iterator[VirtualClock]:
    """Within the block every policy's waits are instant and recorded: `with zero_wait() as clock: ...`.

    Retry decisions, Retry-After handling and deadlines behave as in production; `clock.sleeps` holds the
    delays that would have been slept. Restores the previous clock on exit.
    """
    clock = VirtualClock(frozen=frozen)
    previous = _time.set_clock(clock)
    try:
        yield clock
    finally:
        _time.set_clock(previous)
