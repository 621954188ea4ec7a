"""What a policy is: an async callable `(request, call_next, /) -> response`, or a SansIOPolicy."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

import httpx

__all__ = ["CallNext", "Policy", "SansIOPolicy"]

CallNext = Callable[[httpx.Request], Awaitable[httpx.Response]]
"""The rest of the chain below a policy: send this request on, get the response back."""


@runtime_checkable
class Policy(Protocol):
    """A link of the chain. It may change the request, call `call_next` zero, one or many times, and change
    or replace the response. Plain `async def f(request, call_next, /)` functions are policies too.

    A policy object may be shared by several pipelines and by concurrent calls: it must keep no state that
    belongs to one request (put that in the call context, `pipework.context_of(request)`).
    """

    async def __call__(self, request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
        """Handle `request`, usually by awaiting `call_next(request)`."""
        ...


class SansIOPolicy:
    """Base for policies that never loop: override any of the three synchronous hooks.

    The pipeline runs consecutive SansIO policies in one frame and calls only the hooks a subclass
    overrides, so such a policy costs a function call, not a coroutine.
    """

    __slots__ = ()

    def on_request(self, request: httpx.Request, /) -> None:
        """Called before the request goes down the chain; may change it in place."""

    def on_response(self, request: httpx.Request, response: httpx.Response, /) -> None:
        """Called when the response comes back up, before the policies above see it."""

    def on_exception(self, request: httpx.Request, exc: Exception, /) -> None:
        """Called when the chain below raised; the exception propagates after every hook has seen it."""

    async def __call__(self, request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
        """Run the hooks around `call_next` (the pipeline inlines this; it is here for direct use)."""
        self.on_request(request)
        try:
            response = await call_next(request)
        except Exception as exc:
            self.on_exception(request, exc)
            raise
        self.on_response(request, response)
        return response

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
