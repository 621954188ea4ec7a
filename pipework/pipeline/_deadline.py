"""Who keeps the call's deadline below the retry policy.

The retry policy must end every attempt by the call's deadline (`CallContext.deadline`), whatever happens
below it: a server that drips one byte at a time, an async hook that hangs. Its general tool is an anyio
cancel scope around each attempt, and on asyncio that scope costs ~10 µs per attempt under load (its timer
and task bookkeeping): the single most expensive piece of a successful call on a fast transport.

So the chain may say that it keeps the deadline itself. A transport or a policy whose class sets
`enforces_deadline = True` promises that everything it awaits (other than `call_next`) ends by the call's
deadline, with `DeadlineExceededError`. The pipeline marks a `call_next` as enforcing when everything below
it is: SansIO policies (they never await), policies that promise it, and a transport that promises it
(`AiohttpTransport`: one loop timer per exchange). Only then does the retry policy skip its scope; any
other chain (the default httpx transport, an auth policy fetching tokens, a custom policy) keeps it.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

import anyio
import httpx

from .. import _time
from .._exceptions import DeadlineExceededError
from ._base import CallNext
from ._context import CONTEXT_KEY, CallContext

__all__ = ["ATTRIBUTE", "enforces_deadline", "mark_enforcing", "passed", "within_deadline"]

ATTRIBUTE = "enforces_deadline"

T = TypeVar("T")


def enforces_deadline(obj: object) -> bool:
    """Whether a transport, policy or `call_next` promises to end its work by the call's deadline."""
    return getattr(obj, ATTRIBUTE, False) is True


def mark_enforcing(call_next: CallNext) -> CallNext:
    """`call_next`, marked as keeping the deadline (the pipeline calls this when everything below it does)."""
    setattr(call_next, ATTRIBUTE, True)
    return call_next


def passed(request: httpx.Request) -> DeadlineExceededError:
    """The error for a deadline that passed during the attempt in flight (the retry policy's own wording)."""
    ctx = request.extensions.get(CONTEXT_KEY)
    attempt = ctx.attempt if isinstance(ctx, CallContext) else 1
    return DeadlineExceededError(f"the call's deadline passed during attempt {attempt}", request=request)


async def within_deadline(request: httpx.Request, awaitable: Awaitable[T]) -> T:
    """Await `awaitable` (a hook, a token fetch) so that it ends by the call's deadline, if the call has one.

    Raises:
        DeadlineExceededError: the deadline passed first (the awaitable was cancelled).
    """
    ctx: Any = request.extensions.get(CONTEXT_KEY)
    if not isinstance(ctx, CallContext) or ctx.deadline is None:
        return await awaitable
    remaining = ctx.deadline - _time.clock().now()
    with anyio.CancelScope(deadline=anyio.current_time() + remaining) as scope:
        return await awaitable
    assert scope.cancelled_caught  # (reached only when the scope cancelled the await)
    raise passed(request)
