"""`Pipeline`: the chain of policies folded once into nested closures, ending at an httpx transport."""

from __future__ import annotations

import datetime
import inspect
import time
from collections.abc import Awaitable, Iterable, Sequence

import httpx

from .._exceptions import ConfigurationError
from ._base import CallNext, Policy, SansIOPolicy
from ._context import CONTEXT_KEY, CallContext
from ._deadline import enforces_deadline, mark_enforcing

__all__ = ["Pipeline"]


class Pipeline(httpx.AsyncBaseTransport):
    """An immutable chain of policies in front of a transport; itself an `httpx.AsyncBaseTransport`.

    The chain is folded once, here; sending a request is then one call into nested closures. Consecutive
    `SansIOPolicy` objects share one frame. Hand a Pipeline to `httpx.AsyncClient(transport=...)` if you like.

    At the transport edge the pipeline sets `response.request`, attaches the request to transport errors,
    and, for calls that are not streamed, reads the body there, so that a body cut short is an attempt's
    failure the retry policy sees (and `response.elapsed` covers the whole exchange).

    Raises:
        ConfigurationError: a policy is neither a SansIOPolicy nor an async callable (names its position).
    """

    __slots__ = ("_entry", "_policies", "_transport")

    def __init__(self, transport: httpx.AsyncBaseTransport, policies: Iterable[Policy] = ()) -> None:
        if not isinstance(transport, httpx.AsyncBaseTransport):
            raise ConfigurationError(
                f"transport must be an httpx.AsyncBaseTransport, got {type(transport).__name__}"
            )
        self._transport = transport
        self._policies: tuple[Policy, ...] = tuple(policies)
        for index, policy in enumerate(self._policies):
            _check_policy(index, policy)
        self._entry = _fold(transport, self._policies)

    @property
    def policies(self) -> tuple[Policy, ...]:
        """The policies in order, outermost first."""
        return self._policies

    @property
    def transport(self) -> httpx.AsyncBaseTransport:
        """The transport at the bottom of the chain."""
        return self._transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` through every policy and the transport."""
        return await self._entry(request)

    async def aclose(self) -> None:
        """Close the transport (policies hold no connections)."""
        await self._transport.aclose()

    def __repr__(self) -> str:
        links = [_name(policy) for policy in self._policies] + [type(self._transport).__name__]
        return "Pipeline(" + " -> ".join(links) + ")"


def _name(policy: object) -> str:
    if inspect.isfunction(policy):
        return f"{policy.__qualname__}()"
    return repr(policy)


def _check_policy(index: int, policy: object) -> None:
    if isinstance(policy, SansIOPolicy):
        return
    is_plain = inspect.isfunction(policy) or inspect.ismethod(policy)
    call = policy if is_plain else getattr(type(policy), "__call__", None)  # noqa: B004
    if not callable(policy) or not inspect.iscoroutinefunction(call):
        raise ConfigurationError(
            f"policies[{index}] ({policy!r}) is not a policy: expected a SansIOPolicy or an object/function "
            "with `async def __call__(request, call_next, /)`"
        )


def _overrides(policy: SansIOPolicy, hook: str) -> bool:
    return getattr(type(policy), hook) is not getattr(SansIOPolicy, hook)


def _fold(transport: httpx.AsyncBaseTransport, policies: Sequence[Policy]) -> CallNext:
    # Each call_next is marked when everything below it keeps the call's deadline (see _deadline).
    call_next = _edge(transport)
    enforcing = enforces_deadline(transport)
    if enforcing:
        mark_enforcing(call_next)
    index = len(policies)
    while index > 0:
        start = index - 1
        if isinstance(policies[start], SansIOPolicy):  # synchronous hooks: nothing awaited, nothing to keep
            while start > 0 and isinstance(policies[start - 1], SansIOPolicy):
                start -= 1
            group = [p for p in policies[start:index] if isinstance(p, SansIOPolicy)]
            call_next = _sansio_layer(group, call_next)
        else:
            enforcing = enforcing and enforces_deadline(policies[start])
            call_next = _layer(policies[start], call_next)
        if enforcing:
            mark_enforcing(call_next)
        index = start
    return call_next


def _layer(policy: Policy, call_next: CallNext) -> CallNext:
    # A plain function handing back the policy's own coroutine: no wrapper coroutine to create and await
    # per policy per request (the caller awaits the policy directly).
    def layer(request: httpx.Request) -> Awaitable[httpx.Response]:
        return policy(request, call_next)

    return layer


def _sansio_layer(group: Sequence[SansIOPolicy], call_next: CallNext) -> CallNext:
    before = tuple(p.on_request for p in group if _overrides(p, "on_request"))
    after = tuple(p.on_response for p in reversed(group) if _overrides(p, "on_response"))
    failed = tuple(p.on_exception for p in reversed(group) if _overrides(p, "on_exception"))

    async def sansio_layer(request: httpx.Request) -> httpx.Response:
        for on_request in before:
            on_request(request)
        try:
            response = await call_next(request)
        except Exception as exc:
            for on_exception in failed:
                on_exception(request, exc)
            raise
        for on_response in after:
            on_response(request, response)
        return response

    return sansio_layer


def _edge(transport: httpx.AsyncBaseTransport) -> CallNext:
    handle = transport.handle_async_request
    perf_counter = time.perf_counter
    timedelta = datetime.timedelta

    async def edge(request: httpx.Request) -> httpx.Response:
        started = perf_counter()
        try:
            response = await handle(request)
        except httpx.RequestError as exc:
            if exc._request is None:
                exc.request = request
            raise
        response.request = request
        ctx = request.extensions.get(CONTEXT_KEY)
        if isinstance(ctx, CallContext) and not ctx.stream:
            try:
                if not hasattr(response, "_content"):  # handed over read (AiohttpTransport): no coroutine
                    await response.aread()
            except httpx.RequestError as exc:
                await response.aclose()
                if exc._request is None:
                    exc.request = request
                raise
            except BaseException:
                await response.aclose()
                raise
            response.elapsed = timedelta(seconds=perf_counter() - started)
        return response

    return edge
