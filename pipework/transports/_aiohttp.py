"""AiohttpTransport: an `httpx.AsyncBaseTransport` on aiohttp, for asyncio services that want its speed.

The chain and every policy are unchanged above it. Errors are mapped onto httpx's exceptions with the same
meaning the default transport gives them, because the retry policy decides on that meaning: an error is
"connect" (never sent, safe to resend) only when aiohttp failed before the request left; a server that
disconnects or resets after the request was written is a read-side error (it may have been processed).
(The `httpx-aiohttp` package maps every `ClientConnectionError`, server disconnects included, to
`ConnectTimeout`: under a retry policy that re-sends a POST the server may already have executed.)

asyncio only: aiohttp does not run on trio (use the default transport there).
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
import sniffio
import yarl

from .._exceptions import ConfigurationError
from ..pipeline._context import CONTEXT_KEY, CallContext
from ._factory import DEFAULT_LIMITS

__all__ = ["AiohttpTransport"]

CHUNK = 64 * 1024

_ERRORS: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
    # most specific first
    (aiohttp.ClientProxyConnectionError, httpx.ProxyError),
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),  # includes waiting for a pooled connection
    (aiohttp.ClientConnectorError, httpx.ConnectError),  # DNS, refused, TLS handshake: nothing was sent
    (aiohttp.SocketTimeoutError, httpx.ReadTimeout),
    (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientPayloadError, httpx.RemoteProtocolError),  # a body cut short
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),  # a malformed response
    (
        aiohttp.ClientOSError,
        httpx.ReadError,
    ),  # reset or broken pipe after connecting: may have been processed
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
    (aiohttp.ClientConnectionError, httpx.ReadError),
)


def _mapped(exc: Exception, request: httpx.Request) -> httpx.TransportError:
    """The httpx exception with the same meaning as an aiohttp failure (see the module docstring)."""
    if isinstance(exc, TimeoutError) and not isinstance(exc, aiohttp.ClientError):
        return httpx.ReadTimeout("timed out", request=request)  # aiohttp's own timers, in a few paths
    for source, target in _ERRORS:
        if isinstance(exc, source):
            return target(f"{type(exc).__name__}: {exc}", request=request)
    return httpx.TransportError(f"{type(exc).__name__}: {exc}", request=request)


class _ResponseStream(httpx.AsyncByteStream):
    __slots__ = ("_request", "_response")

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_chunked(CHUNK):
                yield chunk
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _mapped(exc, self._request) from exc

    async def aclose(self) -> None:
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Sends requests with one `aiohttp.ClientSession` (created on first use, inside the running loop).

    No cookie jar, no automatic headers, no decompression (httpx decodes), no redirects: the chain owns all of
    those. Proxies come from the routing the client does above the transport (`proxy=` is per transport).

    Raises:
        ConfigurationError: (at construction) bad limits; (on first request) a loop other than asyncio.
    """

    def __init__(
        self,
        *,
        limits: httpx.Limits = DEFAULT_LIMITS,
        verify: ssl.SSLContext | str | bool = True,
        cert: Any = None,
        proxy: httpx.URL | str | None = None,
        trust_env: bool = True,
    ) -> None:
        if limits.max_connections is not None and limits.max_connections < 1:
            raise ConfigurationError("AiohttpTransport limits.max_connections must be at least 1")
        self._limits = limits
        self._ssl = httpx.create_ssl_context(verify=verify, cert=cert, trust_env=trust_env)
        self._proxy = str(proxy) if proxy is not None else None
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}
        self._urls: dict[int, tuple[httpx.URL, yarl.URL]] = {}

    def _open(self) -> aiohttp.ClientSession:
        if sniffio.current_async_library() != "asyncio":
            raise ConfigurationError(
                "AiohttpTransport runs on asyncio only; use the default transport (create_transport()) on trio"
            )
        connector = aiohttp.TCPConnector(
            limit=self._limits.max_connections or 0,
            keepalive_timeout=self._limits.keepalive_expiry or 15.0,
            ssl=self._ssl,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            trust_env=False,
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
        )
        return self._session

    def _url(self, url: httpx.URL) -> yarl.URL:
        # Clients hand the same httpx.URL object for a path again and again (their URL cache): convert it
        # once. Keyed by identity (holding the object, so its id is not reused while cached); bounded.
        cached = self._urls.get(id(url))
        if cached is not None and cached[0] is url:
            return cached[1]
        converted = yarl.URL(str(url), encoded=True)  # httpx has percent-encoded it already
        if len(self._urls) >= 1024:
            self._urls.clear()
        self._urls[id(url)] = (url, converted)
        return converted

    def _timeout(self, request: httpx.Request) -> aiohttp.ClientTimeout:
        given = request.extensions.get("timeout") or {}
        key = (given.get("connect"), given.get("read"), given.get("pool"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            connect, read, pool = key
            acquire = None if connect is None or pool is None else connect + pool
            timeout = aiohttp.ClientTimeout(total=None, connect=acquire, sock_connect=connect, sock_read=read)
            if len(self._timeouts) > 256:  # per-attempt deadlines make many keys: keep the cache bounded
                self._timeouts.clear()
            self._timeouts[key] = timeout
        return timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request`. A streamed call gets the body as it arrives; any other call gets it read whole here
        (handed over already read when it has no Content-Encoding, so the pipeline edge has nothing left to do)."""
        session = self._session or self._open()
        data: Any = request._content if hasattr(request, "_content") else _body(request.stream)
        headers = [  # aiohttp frames a streamed body itself; (name, lower-case name, value) as httpx keeps them
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, lower, v in request.headers._list
            if lower != b"transfer-encoding"
        ]
        try:
            response = await session._request(
                request.method,
                self._url(request.url),
                headers=headers,
                data=data or None,
                allow_redirects=False,
                timeout=self._timeout(request),
                proxy=self._proxy,
            )
            ctx = request.extensions.get(CONTEXT_KEY)
            body = None
            if isinstance(ctx, CallContext) and not ctx.stream:  # the body is wanted whole: read it in one go
                body = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _mapped(exc, request) from exc
        result = httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_ResponseStream(response, request) if body is None else httpx.ByteStream(body),
            extensions={
                "http_version": b"HTTP/1.1",
                "reason_phrase": (response.reason or "").encode("latin-1"),
            },
        )
        if body is not None and "Content-Encoding" not in response.headers:  # (aiohttp's C multidict: cheap)
            # Nothing for httpx to decode: hand the response over read and closed, as `aread()` would leave
            # it, so the edge's `aread()` returns at once (no per-request async iteration of a 1-chunk stream).
            result._content = body
            result._num_bytes_downloaded = len(body)
            result.is_stream_consumed = True
            result.is_closed = True
        return result

    async def aclose(self) -> None:
        """Close the session and its connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def __repr__(self) -> str:
        return f"AiohttpTransport(max_connections={self._limits.max_connections})"


async def _body(stream: Any) -> AsyncIterator[bytes]:
    async for chunk in stream:
        yield chunk
