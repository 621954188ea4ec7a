"""PipelineClient: the AsyncPipelineClient's API, synchronous, through an anyio blocking portal.

There is one implementation: every call runs the async pipeline on an event loop the client owns (a daemon
thread started on first use). Each request is ONE hop into the loop (build, send through the chain, read the
body), so retries, sleeps and policies run there exactly as for async users. Streamed bodies cross the hop a
chunk at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from types import TracebackType
from typing import Any, Self, Unpack

import anyio
import anyio.from_thread
import httpx

from ._client import AsyncPipelineClient
from ._portal import PortalByteStream, PortalOwner, refuse_inside_event_loop
from ._redact import redact_url
from ._verbs import Verbs, pop_request_parts, same_parameters_as
from .pipeline import CallOptions, Pipeline

__all__ = ["PipelineClient"]


class PipelineClient(Verbs[httpx.Response]):
    """A synchronous HTTP client running the same policy chain as `AsyncPipelineClient`; safe across threads.

    The constructor takes exactly AsyncPipelineClient's arguments and forwards them (`*args, **kwargs`,
    typed by a ParamSpec copy of its signature): an argument added to the async client is accepted here at
    once, checked by type checkers, shown by `help()`, with no edit to this module and no second list
    to drift. Policies, hooks and credentials are those of the async client and run on the client's event
    loop; a sync hook or SansIOPolicy must not block for long there (it would delay every thread's requests):
    make blocking code async, or hand it to `anyio.to_thread.run_sync` from an async hook or policy. Sync
    credentials are already called in a worker thread by the bearer policy.

    The loop starts on the first request and stops on `close()` (or `with` exit). A client never closed
    is stopped at garbage collection or interpreter exit, with a ResourceWarning.

    Raises:
        ConfigurationError: a bad constructor argument (as AsyncPipelineClient).
        RuntimeError: a call from inside a running event loop (use AsyncPipelineClient there), or after close.
    """

    @same_parameters_as(AsyncPipelineClient.__init__)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._async = AsyncPipelineClient(*args, **kwargs)
        self._owner = PortalOwner(self._async.aclose, type(self).__name__)

    @property
    def base_url(self) -> httpx.URL | None:
        """The URL relative request URLs are joined to."""
        return self._async.base_url

    @property
    def async_client(self) -> AsyncPipelineClient:
        """The async client doing the work (its pipeline, its transport)."""
        return self._async

    @property
    def pipeline(self) -> Pipeline:
        """The chain requests run through."""
        return self._async.pipeline

    @property
    def is_closed(self) -> bool:
        """Whether `close()` ran."""
        return self._owner.closed

    def build_request(self, method: str, url: httpx.URL | str, **kwargs: Any) -> httpx.Request:
        """An httpx.Request against `base_url`, as AsyncPipelineClient.build_request."""
        return self._async.build_request(method, url, **kwargs)

    def _run(self, method: str, call: Callable[[], Any]) -> Any:
        refuse_inside_event_loop("PipelineClient", method)
        return anyio.from_thread.run(call, token=self._owner.token or self._owner.start(self))

    def send(
        self, request: httpx.Request, *, stream: bool = False, **options: Unpack[CallOptions]
    ) -> httpx.Response:
        """Send `request` through the pipeline; with `stream=True` close the response (its body streams).

        Raises:
            httpx.HTTPError: transport errors after the retries allowed (history attached).
            DeadlineExceededError: the call's deadline passed.
        """
        response: httpx.Response = self._run(
            "send", partial(self._async.send, request, stream=stream, **options)
        )
        if stream:
            self._sync_stream(response)
        return response

    def _sync_stream(self, response: httpx.Response) -> None:
        stream = response.stream
        if isinstance(stream, httpx.AsyncByteStream) and not isinstance(stream, httpx.SyncByteStream):
            token = self._owner.token
            assert token is not None
            response.stream = PortalByteStream(token, stream)

    @same_parameters_as(AsyncPipelineClient.request)
    def request(self, *args: Any, **kwargs: Any) -> httpx.Response:
        """Build and send a request (one hop into the loop); the body is read. Raises as `send()` does."""
        response: httpx.Response = self._run("request", partial(self._async.request, *args, **kwargs))
        return response

    @same_parameters_as(AsyncPipelineClient.request)
    @contextmanager
    def stream(self, method: str, url: httpx.URL | str, **arguments: Any) -> Iterator[httpx.Response]:
        """`with client.stream("GET", url) as response:` — iter_bytes/iter_lines/read pull through the loop."""
        request = self._async.build_request(method, url, **pop_request_parts(arguments))
        response = self.send(request, stream=True, **arguments)
        try:
            yield response
        finally:
            response.close()

    def close(self) -> None:
        """Close the connections and stop the event loop thread (idempotent)."""
        if not self._owner.stop():
            _close_unstarted(self._async)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        base = redact_url(self.base_url) if self.base_url is not None else None
        return f"{type(self).__name__}(base_url={base!r}, pipeline={self._async.pipeline!r})"


def _close_unstarted(client: AsyncPipelineClient) -> None:
    """The loop never ran, so no connection was opened; still give the transport its aclose()."""
    try:
        refuse_inside_event_loop("PipelineClient", "close")
    except RuntimeError:
        return  # inside a loop nothing can be awaited synchronously; nothing was opened either
    anyio.run(client.aclose)
