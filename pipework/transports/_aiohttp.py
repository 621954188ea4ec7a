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

import asyncio
import math
import ssl
from collections.abc import AsyncIterator
from typing import Any, NamedTuple

import aiohttp
import anyio
import httpx
import sniffio
import yarl
from aiohttp.client_reqrep import ClientRequest, ClientResponse
from aiohttp.connector import Connection

from .. import _time
from .._exceptions import ConfigurationError
from ..pipeline._context import CONTEXT_KEY, CallContext
from ..pipeline._deadline import passed
from ._aiohttp_wire import (
    FAILURES,
    MAX_HEADERS,
    MAX_LINE,
    Body,
    encode_head,
    exchange,
    mapped,
    refuse_transfer_coding,
    response_of,
)
from ._factory import DEFAULT_LIMITS

__all__ = ["AiohttpTransport"]

_NO_CEIL = 1e9  # aiohttp rounds timeouts above this up to whole seconds
_DIRECT_BODY_LIMIT = 1024 * 1024  # larger in-memory bodies go through ClientSession, which writes with drain


class _Target(NamedTuple):
    """What a URL means to the transport, worked out once per httpx.URL object."""

    url: httpx.URL  # held, so that its id() is not reused while cached
    yarl_url: yarl.URL
    origin: ClientRequest | None  # the request aiohttp's connector keys its pool by; None: not http(s)
    path: bytes  # the request target: path and query, percent-encoded by httpx


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Sends requests on aiohttp's connection pool (one `aiohttp.ClientSession`, created on first use).

    No cookie jar, no automatic headers, no decompression (httpx decodes), no redirects: the chain owns all of
    those. A request whose body is in memory (up to 1 MiB) and that goes through no proxy takes the direct
    path (`_aiohttp_wire`: aiohttp's pool and parser without ClientSession's per-request work); streamed
    uploads, larger bodies and proxied requests go through `ClientSession`. Proxies come from the routing the
    client does above the transport (`proxy=` is per transport).

    Raises:
        ConfigurationError: (at construction) bad limits; (on first request) a loop other than asyncio.
    """

    enforces_deadline = True  # every exchange ends by the call's deadline: see pipeline/_deadline

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
        self._loop: Any = None
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}
        self._targets: dict[int, _Target] = {}
        self._origins: dict[tuple[str, str, int | None], ClientRequest] = {}

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
        self._loop = asyncio.get_running_loop()  # (aiohttp is asyncio's: this module alone may use the loop)
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            trust_env=False,
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
            request_class=_Request,
            max_line_size=MAX_LINE,
            max_field_size=MAX_LINE,
            max_headers=MAX_HEADERS,
        )
        self._origins.clear()  # built on the loop of the session closed before (if any)
        self._targets.clear()
        return self._session

    def _target(self, url: httpx.URL) -> _Target:
        # Clients hand the same httpx.URL object for a path again and again (their URL cache): work it out
        # once. Keyed by identity (the entry holds the object, so its id is not reused); bounded.
        cached = self._targets.get(id(url))
        if cached is not None and cached.url is url:
            return cached
        converted = yarl.URL(str(url), encoded=True)  # httpx has percent-encoded it already
        origin = None
        if converted.scheme in ("http", "https") and converted.raw_host:
            key = (converted.scheme, converted.raw_host, converted.port)
            origin = self._origins.get(key)
            if origin is None:
                root = yarl.URL.build(scheme=key[0], host=key[1], port=key[2], encoded=True)
                origin = self._origins[key] = ClientRequest("GET", root)  # (bound to the running loop)
        if len(self._targets) >= 1024:
            self._targets.clear()
        target = self._targets[id(url)] = _Target(url, converted, origin, url.raw_path)
        return target

    def _timeout(self, request: httpx.Request, remaining: float | None) -> aiohttp.ClientTimeout:
        # httpx's pool and connect timeouts are one "connect" phase in aiohttp (waiting for a pooled
        # connection, then opening one): it may take both, but never past the call's deadline. No rounding
        # up to whole seconds (ceil_threshold): a deadline is a deadline.
        given = request.extensions.get("timeout") or {}
        key = (given.get("connect"), given.get("read"), given.get("pool"))
        connect, read, pool = key
        acquire = None if connect is None or pool is None else connect + pool
        if remaining is not None and (acquire is None or acquire > remaining):
            return aiohttp.ClientTimeout(
                connect=remaining, sock_connect=connect, sock_read=read, ceil_threshold=_NO_CEIL
            )
        timeout = self._timeouts.get(key)
        if timeout is None:
            timeout = aiohttp.ClientTimeout(
                total=None, connect=acquire, sock_connect=connect, sock_read=read, ceil_threshold=_NO_CEIL
            )
            if (
                len(self._timeouts) > 256
            ):  # shrunk per-attempt timeouts make many keys: keep the cache bounded
                self._timeouts.clear()
            self._timeouts[key] = timeout
        return timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request`. A streamed call gets the body as it arrives; any other call gets it read whole here
        (handed over already read when it has no Content-Encoding, so the pipeline edge has nothing left to do).

        Raises:
            httpx.TransportError: the failure's httpx meaning (see the module docstring).
            httpx.LocalProtocolError: a method or header that would corrupt the request; nothing is sent.
            DeadlineExceededError: the call's deadline passed (this transport keeps it: see pipeline/_deadline).
        """
        session = self._session or self._open()
        ctx = request.extensions.get(CONTEXT_KEY)
        whole = (
            False  # without a call context (under a plain httpx client) the body is streamed, as httpx does
        )
        remaining: float | None = None
        if isinstance(ctx, CallContext):
            whole = not ctx.stream  # the body is wanted whole: read it in one go
            if ctx.deadline is not None:
                remaining = ctx.deadline - _time.clock().now()
                if remaining <= 0:
                    raise passed(request)
        target = self._target(request.url)
        content: bytes | None = getattr(request, "_content", None)
        head = None
        if (
            content is not None
            and target.origin is not None
            and self._proxy is None
            and len(content) <= _DIRECT_BODY_LIMIT
        ):
            head = encode_head(request, target.path)
        if head is None or content is None or target.origin is None:
            return await self._through_session(session, request, target.yarl_url, content, whole, remaining)
        connector = session.connector
        assert connector is not None  # (the session owns the one built in _open)
        timeout = self._timeout(request, remaining)
        data = head + content if content else head
        return await exchange(connector, target.origin, request, data, timeout, whole, self._loop, remaining)

    async def _through_session(
        self,
        session: aiohttp.ClientSession,
        request: httpx.Request,
        url: yarl.URL,
        content: bytes | None,
        whole: bool,
        remaining: float | None,
    ) -> httpx.Response:
        headers = [  # aiohttp frames a streamed body itself; (name, lower-case name, value) as httpx keeps them
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, lower, v in request.headers._list
            if lower != b"transfer-encoding"
        ]
        deadline = math.inf if remaining is None else anyio.current_time() + remaining
        try:
            with anyio.CancelScope(deadline=deadline) as scope:  # (the rare path: a scope is affordable here)
                response = await session._request(
                    request.method,
                    url,
                    headers=headers,
                    data=(content if content is not None else _body(request.stream)) or None,
                    allow_redirects=False,
                    timeout=self._timeout(request, remaining),
                    proxy=self._proxy,
                )
                try:
                    refuse_transfer_coding(response.headers, request)
                except httpx.RemoteProtocolError:
                    response.close()
                    raise
                body = await response.read() if whole else None
        except FAILURES as exc:
            raise mapped(exc, request) from exc
        if scope.cancelled_caught:
            raise passed(request)
        return response_of(
            response.status,
            response.reason,
            response.version,
            response.raw_headers,
            response.headers,
            Body(response.content, request, response.release, response.close) if body is None else body,
        )

    async def aclose(self) -> None:
        """Close the session and its connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def __repr__(self) -> str:
        return f"AiohttpTransport(max_connections={self._limits.max_connections})"


class _Request(ClientRequest):
    """ClientSession's request, honouring a caller's `Connection: close`: aiohttp's pool looks only at the
    response, so it would keep the connection (and the next request would meet the server's close)."""

    async def send(self, conn: Connection) -> ClientResponse:
        value = self.headers.get("Connection")
        closing = value is not None and "close" in [token.strip() for token in value.lower().split(",")]
        if closing and conn.protocol is not None:
            conn.protocol.force_close()
        return await super().send(conn)


async def _body(stream: Any) -> AsyncIterator[bytes]:
    async for chunk in stream:
        yield chunk
