"""The transports under contract: every test taking `make_transport` runs on httpx's and on aiohttp's."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from pipework.transports import AiohttpTransport, create_transport

TRANSPORTS: dict[str, Callable[[], httpx.AsyncBaseTransport]] = {
    "httpx": create_transport,
    "aiohttp": AiohttpTransport,
}


@pytest.fixture(params=sorted(TRANSPORTS))
def make_transport(
    request: pytest.FixtureRequest, anyio_backend: str
) -> Callable[[], httpx.AsyncBaseTransport]:
    """Each transport; aiohttp only on asyncio (it does not run on trio, see test_aiohttp_refuses_trio)."""
    if request.param == "aiohttp" and anyio_backend != "asyncio":
        pytest.skip("aiohttp runs on asyncio only (see test_aiohttp_refuses_trio)")
    return TRANSPORTS[request.param]
