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

    __slots__ = ("__weakref__", "_aclose", "_closed", "_finalizer", "_label", "_lock", "portal")

    def __init__(self, aclose: Callable[[], Any], label: str) -> None:
        self.portal: anyio.from_thread.BlockingPortal | None = None
        self._aclose = aclose
        self._label = label
        self._lock = threading.Lock()
        self._closed = False
        self._finalizer: weakref.finalize[Any, Any] | None = None

    def start(self, user: object) -> anyio.from_thread.BlockingPortal:
        """The running portal (started now if needed); `user` is the object whose collection stops it.

        Raises:
            RuntimeError: the owner was stopped (the client is closed).
        """
        with self._lock:
            if self.portal is not None:
                return self.portal
            if self._closed:
                raise RuntimeError(f"Cannot send a request, as the {self._label} has been closed.")
            manager = anyio.from_thread.start_blocking_portal(name="pipework-portal")
            portal = manager.__enter__()
            self._finalizer = weakref.finalize(user, _abandoned, manager, portal, self._aclose, self._label)
            self.portal = portal
            return portal

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
            self.portal = None
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


async def _next_chunk(iterator: AsyncIterator[bytes]) -> bytes | None:
    try:
        return await iterator.__anext__()
    except StopAsyncIteration:
        return None


class PortalByteStream(httpx.SyncByteStream):
    """A sync byte stream over an async one living on the portal's loop: each chunk is one `portal.call`."""

    __slots__ = ("_portal", "_stream")

    def __init__(self, portal: anyio.from_thread.BlockingPortal, stream: httpx.AsyncByteStream) -> None:
        self._portal = portal
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        iterator = self._stream.__aiter__()
        call = self._portal.call
        while (chunk := call(_next_chunk, iterator)) is not None:
            yield chunk

    def close(self) -> None:
        """Close the async stream on the loop (returns the connection to the pool)."""
        self._portal.call(self._stream.aclose)

    def __repr__(self) -> str:
        return f"PortalByteStream({type(self._stream).__name__})"
