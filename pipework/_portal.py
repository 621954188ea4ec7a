"""The event loop a `PipelineClient` owns: a blocking portal started lazily, stopped on close or at exit."""

from __future__ import annotations

import contextlib
import threading
import warnings
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import anyio.from_thread
import anyio.lowlevel
import httpx
import sniffio

__all__ = ["PortalByteStream", "PortalOwner", "refuse_inside_event_loop"]


def refuse_inside_event_loop(owner: str, method: str) -> None:
    """Raise if the calling thread runs an event loop: a blocking call there would freeze every task on it.

    Raises:
        RuntimeError: naming the async client to use instead.
    """
    try:
        library = sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        return
    raise RuntimeError(
        f"{owner}.{method}() was called from inside a running {library} event loop, where it would block "
        f"every other task; in async code use AsyncPipelineClient (`await client.{method}(...)`), or run "
        "the blocking call in a worker thread (anyio.to_thread.run_sync)"
    )


class PortalOwner:
    """Starts one blocking portal (an event loop in a daemon thread) on first use, thread-safely.

    `stop()` closes `aclose` (the async client's) on the loop, then stops the loop and joins its thread.
    If the owner is garbage collected, or the interpreter exits, with the portal still running, it is
    stopped the same way and a ResourceWarning names `label`.
    """

    __slots__ = ("__weakref__", "_aclose", "_closed", "_finalizer", "_label", "_lock", "portal", "token")

    def __init__(self, aclose: Callable[[], Any], label: str) -> None:
        self.portal: anyio.from_thread.BlockingPortal | None = None
        self.token: anyio.lowlevel.EventLoopToken | None = None
        """The loop's token: `anyio.from_thread.run(fn, token=...)` is one round trip, half a portal.call."""
        self._aclose = aclose
        self._label = label
        self._lock = threading.Lock()
        self._closed = False
        self._finalizer: weakref.finalize[Any, Any] | None = None

    def start(self, user: object) -> anyio.lowlevel.EventLoopToken:
        """The running loop's token (started now if needed); `user` is the object whose collection stops it.

        Raises:
            RuntimeError: the owner was stopped (the client is closed).
        """
        with self._lock:
            if self.token is not None:
                return self.token
            if self._closed:
                raise RuntimeError(f"Cannot send a request, as the {self._label} has been closed.")
            manager = anyio.from_thread.start_blocking_portal(name="pipework-portal")
            portal = manager.__enter__()
            self._finalizer = weakref.finalize(user, _abandoned, manager, portal, self._aclose, self._label)
            self.portal = portal
            self.token = token = portal.call(_current_token)
            return token

    @property
    def closed(self) -> bool:
        """Whether `stop()` ran."""
        return self._closed

    def stop(self) -> bool:
        """Close the client on the loop and stop the loop; False if the portal never started (idempotent)."""
        with self._lock:
            if self._closed:
                return True
            self._closed = True
            portal, finalizer = self.portal, self._finalizer
            self.portal = self.token = None
        if finalizer is None or portal is None:
            return False
        detached = finalizer.detach()
        if detached is not None:  # None: the finalizer already ran (interpreter exit)
            _shutdown(detached[2][0], portal, self._aclose)
        return True


def _shutdown(
    manager: AbstractContextManager[Any], portal: anyio.from_thread.BlockingPortal, aclose: Any
) -> None:
    try:
        portal.call(aclose)
    finally:
        manager.__exit__(None, None, None)


def _abandoned(
    manager: AbstractContextManager[Any], portal: anyio.from_thread.BlockingPortal, aclose: Any, label: str
) -> None:
    warnings.warn(
        f"{label} was not closed: its event loop thread and connections were released at garbage collection "
        "or exit; use `with PipelineClient(...) as client:` or call close()",
        ResourceWarning,
        stacklevel=2,
    )
    with contextlib.suppress(Exception):  # nothing more to do at exit; the loop thread is a daemon
        _shutdown(manager, portal, aclose)


async def _current_token() -> anyio.lowlevel.EventLoopToken:
    return anyio.lowlevel.current_token()


async def _next_chunk(iterator: AsyncIterator[bytes]) -> bytes | None:
    try:
        return await iterator.__anext__()
    except StopAsyncIteration:
        return None


class PortalByteStream(httpx.SyncByteStream):
    """A sync byte stream over an async one living on the client's loop: each chunk is one hop to the loop."""

    __slots__ = ("_stream", "_token")

    def __init__(self, token: anyio.lowlevel.EventLoopToken, stream: httpx.AsyncByteStream) -> None:
        self._token = token
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        iterator = self._stream.__aiter__()
        run, token = anyio.from_thread.run, self._token
        while (chunk := run(_next_chunk, iterator, token=token)) is not None:
            yield chunk

    def close(self) -> None:
        """Close the async stream on the loop (returns the connection to the pool)."""
        anyio.from_thread.run(self._stream.aclose, token=self._token)

    def __repr__(self) -> str:
        return f"PortalByteStream({type(self._stream).__name__})"
