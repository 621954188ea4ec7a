"""The peers pipework is measured against, each set up as its documentation shows, when its package is installed.

Every peer is a `Get`: send one GET of the URL and return the body, read (the caller checks it). A peer whose
package is missing (`pip install 'pipework[bench]'`) is left out, never faked.

- `httpx-retries`: `httpx.AsyncClient(transport=RetryTransport(<transport>, retry=Retry()))`, its default retry.
- `corehttp`: `corehttp.runtime.AsyncPipelineClient` with its default policies (headers, user agent, retry,
  logging, ...), on corehttp's httpx transport in process, on its aiohttp transport over loopback.
- `azure-core`: `azure.core.AsyncPipelineClient` with its default policies. In process it runs over an adapter
  to the same httpx mock (built as corehttp's httpx transport is: azure-core ships none); over loopback on its
  own aiohttp transport.

- `httpx-aiohttp`: its `AiohttpTransport` under pipework's default chain (the alternative to pipework's own
  aiohttp transport the issue asked to evaluate).

kiota (`microsoft-kiota-http`) is not among them: it sends requests only through a generated client.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

Get = Callable[[], Awaitable[bytes]]
Close = Callable[[], Awaitable[Any]]


def httpx_retries(
    transport: httpx.AsyncBaseTransport, url: str, limits: httpx.Limits | None = None
) -> tuple[Get, Close] | None:
    """`httpx.AsyncClient` over httpx-retries' RetryTransport (default Retry) over `transport`."""
    try:
        from httpx_retries import Retry, RetryTransport
    except ImportError:
        return None
    client = httpx.AsyncClient(
        transport=RetryTransport(transport=transport, retry=Retry()), limits=limits or httpx.Limits()
    )

    async def get() -> bytes:
        return (await client.get(url)).content

    return get, client.aclose


def corehttp_in_process(mock: httpx.AsyncBaseTransport, url: str) -> tuple[Get, Close] | None:
    """corehttp's default pipeline on its httpx transport, the httpx client over `mock`."""
    try:
        from corehttp.rest import HttpRequest
        from corehttp.runtime import AsyncPipelineClient
        from corehttp.transport.httpx import AsyncHttpXTransport
    except ImportError:
        return None
    client = AsyncPipelineClient(url, transport=AsyncHttpXTransport(client=httpx.AsyncClient(transport=mock)))
    return _rest_get(client, HttpRequest, url), client.close


def corehttp_loopback(url: str) -> tuple[Get, Close] | None:
    """corehttp's default pipeline on its aiohttp transport."""
    try:
        from corehttp.rest import HttpRequest
        from corehttp.runtime import AsyncPipelineClient
        from corehttp.transport.aiohttp import AioHttpTransport
    except ImportError:
        return None
    client = AsyncPipelineClient(url, transport=AioHttpTransport())
    return _rest_get(client, HttpRequest, url + "/"), client.close


def azure_loopback(url: str) -> tuple[Get, Close] | None:
    """azure-core's default pipeline on its aiohttp transport."""
    try:
        from azure.core import AsyncPipelineClient
        from azure.core.pipeline.transport import AioHttpTransport
        from azure.core.rest import HttpRequest
    except ImportError:
        return None
    client = AsyncPipelineClient(url, transport=AioHttpTransport())
    return _rest_get(client, HttpRequest, url + "/"), client.close


def azure_in_process(mock: httpx.AsyncBaseTransport, url: str) -> tuple[Get, Close] | None:
    """azure-core's default pipeline over an adapter to `mock` (an httpx client, as corehttp's transport)."""
    try:
        from azure.core import AsyncPipelineClient
        from azure.core.pipeline.transport import AsyncHttpTransport
        from azure.core.rest import HttpRequest
        from azure.core.rest._http_response_impl_async import AsyncHttpResponseImpl
    except ImportError:
        return None
    inner = httpx.AsyncClient(transport=mock)

    class Response(AsyncHttpResponseImpl):  # type: ignore[misc]
        def __init__(self, request: Any, response: httpx.Response) -> None:
            super().__init__(
                request=request,
                internal_response=response,
                status_code=response.status_code,
                headers=response.headers,
                reason=response.reason_phrase,
                content_type=response.headers.get("content-type"),
                stream_download_generator=None,
            )
            self._content = response.content  # read by the adapter, as a non-streamed call is

        async def close(self) -> None:
            self._is_closed = True
            await self._internal_response.aclose()

    class Adapter(AsyncHttpTransport):  # type: ignore[misc]
        async def send(self, request: Any, **kwargs: Any) -> Any:
            response = await inner.request(request.method, request.url, headers=dict(request.headers))
            return Response(request, response)

        async def open(self) -> None:
            pass

        async def close(self) -> None:
            await inner.aclose()

        async def __aexit__(self, *args: Any) -> None:
            await self.close()

    client = AsyncPipelineClient(url, transport=Adapter())
    return _rest_get(client, HttpRequest, url), client.close


def _rest_get(client: Any, request_type: Any, url: str) -> Get:
    async def get() -> bytes:
        response = await client.send_request(request_type("GET", url))
        if response.status_code != 200:
            raise AssertionError(f"bad status {response.status_code}")
        body: bytes = await response.read()
        return body

    return get


def pipework_on_httpx_aiohttp(url: str, limits: httpx.Limits) -> tuple[Get, Close] | None:
    """pipework's default chain over httpx-aiohttp's transport."""
    try:
        from httpx_aiohttp import AiohttpTransport
    except ImportError:
        return None
    from pipework import AsyncPipelineClient

    client = AsyncPipelineClient(url, transport=AiohttpTransport(limits=limits))

    async def get() -> bytes:
        return (await client.get("/")).content

    return get, client.aclose
