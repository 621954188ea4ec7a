"""httpcore's connection pool with a cheaper bookkeeping step: the default transport's pool under load.

httpcore (1.0) rebalances its pool twice per request (when a request arrives, when its response closes) in
`_assign_requests_to_connections`, and each time it asks every pooled connection whether it has expired:
for an idle HTTP/1.1 connection that is a socket poll through anyio's typed attributes (~5 µs), and it counts
idle connections with a list built once per idle connection (quadratic). Measured on loopback, that step was
45% of a request's CPU at concurrency 64, and a burst that leaves 64 idle connections made every later
sequential request 2.6x dearer.

`Pool` keeps the decisions and their order (the first available connection for the origin; else a new one
below `max_connections`; else an idle connection of another origin closed to make room; else the request
waits) and changes only when the expensive checks run:

- a connection is checked for expiry (keep-alive timeout, or the server having closed it) when it is about to
  be handed out, and every pooled connection once per `SWEEP_SECONDS`, instead of all of them on every step;
- idle connections beyond `max_keepalive_connections` are closed as soon as they go idle, counted in one
  pass (httpcore's count compares all connections, busy ones too, with the limit);
- on an HTTP/1.1 pool, a connection already handed to a request whose task has not started yet is not handed
  to a second one. httpcore hands the first idle connection to every queued request at once; all but one then
  fail with ConnectionNotAvailable and go round again (at concurrency 64, ~12 rounds per request).

It only replaces `_assign_requests_to_connections`, private to httpcore; `adopt()` installs it on a pool of
exactly the 1.0 class and leaves anything else (a proxy pool, another httpcore) as it is.
"""

from __future__ import annotations

import time
from typing import Any

import httpcore

__all__ = ["Pool", "adopt"]

SWEEP_SECONDS = 1.0
"""How often every pooled connection is checked for expiry even when none is handed out."""

_NEEDED = ("_connections", "_requests", "_max_connections", "_max_keepalive_connections")


class Pool(httpcore.AsyncConnectionPool):
    """httpcore's AsyncConnectionPool, rebalanced in one pass (see the module docstring)."""

    _next_sweep = 0.0

    def _assign_requests_to_connections(self) -> list[Any]:
        closing: list[Any] = []
        connections: list[Any] = self._connections
        now = time.monotonic()
        sweep = now >= self._next_sweep
        if sweep:
            self._next_sweep = now + SWEEP_SECONDS
        if sweep or len(connections) > self._max_keepalive_connections:
            self._tidy(connections, closing, sweep)
        queued: list[Any] = []
        taken: set[Any] = set()  # connections already handed to a request (whose task may not have run yet)
        for pool_request in self._requests:
            if pool_request.is_queued():
                queued.append(pool_request)
            else:
                taken.add(pool_request.connection)
        if self._http2:
            taken.clear()  # an HTTP/2 connection takes many requests at once
        for pool_request in queued:
            origin = pool_request.request.url.origin
            connection = self._available(connections, origin, closing, taken)
            if connection is None:
                if len(connections) >= self._max_connections:
                    victim = next((c for c in connections if c.is_idle() and c not in taken), None)
                    if victim is None:
                        continue  # every connection is busy: the request waits for one
                    connections.remove(victim)
                    closing.append(victim)
                connection = self.create_connection(origin)
                connections.append(connection)
            pool_request.assign_to_connection(connection)
            taken.add(connection)
        return closing

    def _tidy(self, connections: list[Any], closing: list[Any], sweep: bool) -> None:
        """Drop closed connections; close surplus idle ones and, on a sweep, expired ones."""
        kept: list[Any] = []
        idle = 0
        for connection in connections:
            if connection.is_closed():
                continue
            if sweep and connection.has_expired():
                closing.append(connection)
                continue
            if connection.is_idle():
                if idle >= self._max_keepalive_connections:
                    closing.append(connection)
                    continue
                idle += 1
            kept.append(connection)
        connections[:] = kept

    @staticmethod
    def _available(
        connections: list[Any], origin: httpcore.Origin, closing: list[Any], taken: set[Any]
    ) -> Any:
        """The first connection able to take a request to `origin` now, checked for expiry; None if none is.

        Closed and expired connections met on the way leave the pool (the expired ones to be closed).
        """
        gone: list[Any] = []
        found = None
        for connection in connections:
            if connection.is_closed():
                gone.append(connection)
            elif (
                connection.can_handle_request(origin)
                and connection.is_available()
                and connection not in taken
            ):
                if connection.has_expired():
                    gone.append(connection)
                    closing.append(connection)
                    continue
                found = connection
                break
        if gone:
            connections[:] = [c for c in connections if c not in gone]
        return found


def adopt(pool: object) -> None:
    """Make `pool` a `Pool` if it is exactly httpcore 1.0's AsyncConnectionPool; otherwise leave it."""
    if type(pool) is httpcore.AsyncConnectionPool and all(hasattr(pool, name) for name in _NEEDED):
        pool.__class__ = Pool
