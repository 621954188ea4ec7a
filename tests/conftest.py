"""Shared fixtures: every async test runs on asyncio and on trio; retries never sleep for real."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from pipework.testing import VirtualClock, zero_wait
from pipework.transports import AiohttpTransport, create_transport

TRANSPORTS: dict[str, Callable[..., httpx.AsyncBaseTransport]] = {
    "httpx": create_transport,
    "aiohttp": AiohttpTransport,
}


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run each `@pytest.mark.anyio` test on both backends."""
    return str(request.param)


@pytest.fixture
def clock() -> Iterator[VirtualClock]:
    """Zero-wait mode: sleeps are recorded in `clock.sleeps`, not slept."""
    with zero_wait() as virtual:
        yield virtual


@pytest.fixture(params=sorted(TRANSPORTS))
def make_transport(
    request: pytest.FixtureRequest, anyio_backend: str
) -> Callable[..., httpx.AsyncBaseTransport]:
    """Each transport under contract; aiohttp only on asyncio (it does not run on trio, see
    tests/transports/test_contract.py::test_aiohttp_refuses_trio)."""
    if request.param == "aiohttp" and anyio_backend != "asyncio":
        pytest.skip("aiohttp runs on asyncio only (see test_aiohttp_refuses_trio)")
    return TRANSPORTS[request.param]
