"""Per-origin keys and a bucketed sliding-window counter, shared by the resilience policies."""

from __future__ import annotations

import httpx

__all__ = ["OriginKey", "SlidingCounter", "origin_key", "origin_name"]

OriginKey = tuple[str, bytes, int | None]
"""(scheme, host, port) of a URL; the port is None when it is the scheme's default (httpx drops it)."""

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def origin_key(url: httpx.URL) -> OriginKey:
    """The key resilience state is kept under: one breaker, budget, limiter... per (scheme, host, port)."""
    return (url.scheme, url.raw_host, url.port)


def origin_name(key: OriginKey) -> str:
    """`scheme://host:port` for logs, callbacks and errors (an origin holds no secrets)."""
    scheme, host, port = key
    if port is None:
        port = _DEFAULT_PORTS.get(scheme)
    return f"{scheme}://{host.decode('ascii', 'replace')}:{port}"


class SlidingCounter:
    """Two running sums (`a`, `b`) over the last `window` seconds, kept in `buckets` slots.

    Each slot covers `window / buckets` seconds and is reset lazily when time reaches it again, so adding
    is O(1) and summing O(buckets), with no timer and no allocation per event. The window slides by whole
    slots: an event is forgotten between `window - window/buckets` and `window` seconds after it happened.
    Updates never await, so one counter is safe under concurrent tasks of one event loop.
    """

    __slots__ = ("_a", "_b", "_epochs", "_inverse", "_size")

    def __init__(self, window: float, buckets: int = 10) -> None:
        self._size = buckets
        self._inverse = buckets / window
        self._epochs = [-1] * buckets
        self._a = [0.0] * buckets
        self._b = [0.0] * buckets

    def add(self, now: float, a: float, b: float = 0.0) -> None:
        """Add `a` and `b` to the slot of time `now`."""
        epoch = int(now * self._inverse)
        index = epoch % self._size
        if self._epochs[index] != epoch:
            self._epochs[index] = epoch
            self._a[index] = a
            self._b[index] = b
        else:
            self._a[index] += a
            self._b[index] += b

    def totals(self, now: float) -> tuple[float, float]:
        """The sums of `a` and `b` over the window ending at `now`."""
        oldest = int(now * self._inverse) - self._size + 1
        a = b = 0.0
        epochs = self._epochs
        for index in range(self._size):
            if epochs[index] >= oldest:
                a += self._a[index]
                b += self._b[index]
        return a, b

    def clear(self) -> None:
        """Forget everything."""
        self._epochs = [-1] * self._size

    def __repr__(self) -> str:
        return f"SlidingCounter(window={self._size / self._inverse:g}s, buckets={self._size})"
