"""CustomHookPolicy: raw request/response callbacks, per client and per call, on every attempt."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import httpx

from .._exceptions import ConfigurationError
from ._base import CallNext
from ._context import CONTEXT_KEY, CallContext
from ._deadline import within_deadline

__all__ = ["CustomHookPolicy"]

RequestHook = Callable[[httpx.Request], Any]
ResponseHook = Callable[[httpx.Response], Any]


class CustomHookPolicy:
    """Calls `raw_request_hook(request)` before each attempt and `raw_response_hook(response)` after it.

    Hooks may be plain or async functions. The per-call options of the same names run in addition to the
    client's (client hook first). A hook that raises fails the attempt with its exception; an async hook
    still running at the call's deadline is cancelled (DeadlineExceededError).

    Raises:
        ConfigurationError: a hook that is not callable.
    """

    __slots__ = ("raw_request_hook", "raw_response_hook")
    enforces_deadline = True  # async hooks are awaited within the call's deadline (see pipeline/_deadline)

    def __init__(
        self, raw_request_hook: RequestHook | None = None, raw_response_hook: ResponseHook | None = None
    ) -> None:
        for name, hook in (("raw_request_hook", raw_request_hook), ("raw_response_hook", raw_response_hook)):
            if hook is not None and not callable(hook):
                raise ConfigurationError(f"CustomHookPolicy {name} must be callable, got {hook!r}")
        self.raw_request_hook = raw_request_hook
        self.raw_response_hook = raw_response_hook

    async def __call__(self, request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
        """Run the request hooks, send, run the response hooks."""
        ctx = request.extensions.get(CONTEXT_KEY)
        call_request = call_response = None
        if isinstance(ctx, CallContext):
            call_request, call_response = ctx.raw_request_hook, ctx.raw_response_hook
        client_request, client_response = self.raw_request_hook, self.raw_response_hook
        if client_request is not None:
            await _call(client_request, request, request)
        if call_request is not None:
            await _call(call_request, request, request)
        response = await call_next(request)
        if client_response is not None:
            await _call(client_response, response, request)
        if call_response is not None:
            await _call(call_response, response, request)
        return response

    def __repr__(self) -> str:
        return (
            f"CustomHookPolicy(raw_request_hook={self.raw_request_hook!r}, "
            f"raw_response_hook={self.raw_response_hook!r})"
        )


async def _call(hook: Callable[[Any], Any], arg: Any, request: httpx.Request) -> None:
    result = hook(arg)
    if inspect.isawaitable(result):
        await within_deadline(request, result)
