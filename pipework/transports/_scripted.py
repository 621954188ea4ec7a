"""ScriptedTransport: answers each request with the next step of a script and records what it saw."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

import httpx

__all__ = ["ScriptedTransport", "Step"]

Step = (
    int
    | httpx.Response
    | BaseException
    | type[BaseException]
    | Callable[[httpx.Request], "httpx.Response | int | Awaitable[httpx.Response | int]"]
)
"""A status code, a response, an exception (instance or class) to raise, or a function of the request."""


class ScriptedTransport(httpx.AsyncBaseTransport):
    """A test transport: request n gets step n of the script (the last step repeats when `repeat_last`).

    Each request's body is read (as a server would) and kept in `bodies`; `requests` keeps the requests.
    An exception class is raised as `cls("scripted", request=request)` for httpx errors.

    Raises:
        AssertionError: (from a call) the script ran out and `repeat_last` is False.
    """

    def __init__(self, *steps: Step, repeat_last: bool = False) -> None:
        if not steps:
            raise ValueError("ScriptedTransport needs at least one step")
        self.steps = list(steps)
        self.repeat_last = repeat_last
        self.requests: list[httpx.Request] = []
        self.bodies: list[bytes] = []
        self.closed = False

    @property
    def calls(self) -> int:
        """How many requests reached the transport."""
        return len(self.requests)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer with the next step."""
        index = len(self.requests)
        self.requests.append(request)
        self.bodies.append(await request.aread())
        if index >= len(self.steps):
            if not self.repeat_last:
                raise AssertionError(f"ScriptedTransport: script of {len(self.steps)} steps ran out")
            index = len(self.steps) - 1
        step = self.steps[index]
        if isinstance(step, type) and issubclass(step, BaseException):
            if issubclass(step, httpx.RequestError):
                raise step("scripted", request=request)
            raise step("scripted")
        if isinstance(step, BaseException):
            raise step
        answer: object = step
        if callable(step) and not isinstance(step, httpx.Response | int):
            answer = step(request)  # type: ignore[call-arg]
            if inspect.isawaitable(answer):
                answer = await answer
        if isinstance(answer, int):
            return httpx.Response(answer, request=request)
        assert isinstance(answer, httpx.Response), f"a script step gave {answer!r}"
        return answer

    async def aclose(self) -> None:
        """Mark the transport closed (tests check the client closed it)."""
        self.closed = True

    def __repr__(self) -> str:
        return f"ScriptedTransport({len(self.steps)} steps, {self.calls} calls)"
