"""Fixtures of the resilience tests: a frozen virtual clock and a helper sending through a bare pipeline."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from pipework.pipeline import CONTEXT_KEY, CallContext, Pipeline
from pipework.testing import VirtualClock, zero_wait


@pytest.fixture
def frozen() -> Iterator[VirtualClock]:
    """Virtual time that moves only by sleeps and `advance()`: state machines stepped exactly."""
    with zero_wait(frozen=True) as virtual:
        yield virtual


async def send(pipeline: Pipeline, url: str = "http://origin.test/x", method: str = "GET") -> httpx.Response:
    """Send one call through `pipeline` as the client would (with a call context)."""
    request = httpx.Request(method, url)
    request.extensions[CONTEXT_KEY] = CallContext()
    return await pipeline.handle_async_request(request)
