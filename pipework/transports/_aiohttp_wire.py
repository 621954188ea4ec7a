"""AiohttpTransport's direct path: aiohttp's pool, TLS and C response parser, without its ClientSession.

Why: `ClientSession._request` redoes per request what the chain has already done (merge headers, cookies,
auto headers, redirects, a timer per call) and measured here it costs as much CPU as our whole chain. A
request whose body is in memory and that goes through no proxy is therefore written here as one buffer on a
connection from aiohttp's connector (the pool, DNS cache, TLS and limits are aiohttp's), and its response is
parsed by aiohttp's own `ResponseHandler`, exactly as ClientSession would parse it.

One deliberate difference: ClientSession silently re-sends a request (a POST too) once when a reused
connection turns out to be dead. Here that is an httpx error like any other, and the retry policy decides
with what it knows (method, Idempotency-Key, the call's deadline), as on the default httpx transport.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import httpx
from aiohttp.client_proto import ResponseHandler
from aiohttp.client_reqrep import ClientRequest
from aiohttp.http_exceptions import HttpProcessingError

from .._redact import scrub_protocol_error
from ..pipeline._deadline import passed

__all__ = [
    "CHUNK",
    "MAX_HEADERS",
    "MAX_LINE",
    "FAILURES",
    "Body",
    "encode_head",
    "exchange",
    "mapped",
    "refuse_transfer_coding",
    "response_of",
]

CHUNK = 64 * 1024

MAX_LINE = 64 * 1024
"""The longest status line or header aiohttp's parser takes here. aiohttp's default is 8 KiB: a 10 KB
Content-Security-Policy or cookie that httpx's transport takes (up to its 100 KiB head) would fail."""
MAX_HEADERS = 128
"""The most header lines a response may have (aiohttp's default)."""

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
    (HttpProcessingError, httpx.RemoteProtocolError),  # the parser's own errors, on the direct path
    (
        aiohttp.ClientOSError,
        httpx.ReadError,
    ),  # reset or broken pipe after connecting: may have been processed
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
    (aiohttp.ClientConnectionError, httpx.ReadError),
)
_PARSER_ERRORS = (HttpProcessingError, aiohttp.ClientResponseError, aiohttp.ClientPayloadError)
FAILURES = (aiohttp.ClientError, HttpProcessingError, TimeoutError, OSError)
"""What aiohttp raises for a failed exchange; `mapped()` turns each into its httpx meaning."""

_TOKEN = re.compile(rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+")  # RFC 9110 token: methods and field names
_UNSAFE_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")  # what would split or corrupt the header block
_VERSIONS = {(1, 1): b"HTTP/1.1", (1, 0): b"HTTP/1.0"}
_DIVERTED = frozenset((b"transfer-encoding", b"connection"))  # (a set lookup costs what one == does)


def mapped(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    """The httpx exception with the same meaning as an aiohttp failure (see AiohttpTransport's docstring)."""
    if isinstance(exc, TimeoutError) and not isinstance(exc, aiohttp.ClientError):
        return httpx.ReadTimeout("timed out", request=request)  # aiohttp's own timers, in a few paths
    if isinstance(exc, _PARSER_ERRORS):  # they quote the header line they refused (a cookie, a token)
        scrub_protocol_error(exc, request.headers.raw)
    for source, target in _ERRORS:
        if isinstance(exc, source):
            return target(f"{type(exc).__name__}: {' '.join(str(exc).split())}", request=request)
    return httpx.TransportError(f"{type(exc).__name__}: {exc}", request=request)


def _closes(connection: bytes) -> bool:
    """Whether a request's Connection header value asks to close: the connection must not go back to the
    pool (aiohttp's pool looks only at the response; httpcore honours the request's header too)."""
    return b"close" in [token.strip() for token in connection.lower().split(b",")]


def refuse_transfer_coding(headers: Any, request: httpx.Request) -> None:
    """Refuse a response Transfer-Encoding other than `chunked`, as httpcore (h11) does: aiohttp's parser
    decodes only `chunked`, so the body of any other (the client never asked for one) would be handed over
    still coded.

    Raises:
        httpx.RemoteProtocolError: a transfer coding other than `chunked`.
    """
    codings = ",".join(headers.getall("Transfer-Encoding", ()))
    if codings and [part.strip().lower() for part in codings.split(",")] != ["chunked"]:
        raise httpx.RemoteProtocolError("Only Transfer-Encoding: chunked is supported", request=request)


def encode_head(request: httpx.Request, target: bytes) -> bytes | None:
    """The request line and header block, or None when the request must take the ClientSession path
    (it carries a Transfer-Encoding header: framing a body is then aiohttp's job; or `Connection: close`,
    honoured there: such a request pays for a new connection anyway).

    Raises:
        httpx.LocalProtocolError: a method, header name or value that would corrupt the request (a header
            injection attempt among them); nothing is sent. The message names the header, not its value.
    """
    method = request.method.encode("ascii", "replace")
    if _TOKEN.fullmatch(method) is None:
        raise httpx.LocalProtocolError(f"invalid HTTP method {request.method!r}", request=request)
    lines = [method, b" ", target, b" HTTP/1.1\r\n"]
    for name, lower, value in request.headers._list:
        if lower in _DIVERTED and (lower == b"transfer-encoding" or _closes(value)):
            return None
        if _TOKEN.fullmatch(name) is None or _UNSAFE_VALUE.search(value) is not None:
            shown = name.decode("latin-1")[:64]
            raise httpx.LocalProtocolError(f"invalid header {shown!r}: control characters", request=request)
        lines += (name, b": ", value, b"\r\n")
    lines.append(b"\r\n")
    return b"".join(lines)


class Body(httpx.AsyncByteStream):
    """A response body as it arrives; closing it hands the connection back (or closes it, if unread)."""

    __slots__ = ("_close", "_payload", "_release", "_request")

    def __init__(
        self,
        payload: aiohttp.StreamReader,
        request: httpx.Request,
        release: Callable[[], Any],
        close: Callable[[], Any],
    ) -> None:
        self._payload = payload
        self._request = request
        self._release = release
        self._close = close

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._payload.iter_chunked(CHUNK):
                yield chunk
        except FAILURES as exc:
            self._close()
            raise mapped(exc, self._request) from exc

    async def aclose(self) -> None:
        self._release()  # aiohttp pools the connection only when the body was read to its end


def response_of(
    code: int, reason: str | None, version: Any, raw_headers: Any, headers: Any, content: bytes | Body
) -> httpx.Response:
    """The httpx.Response for a parsed aiohttp response head, with its body read (`bytes`) or to come (`Body`).

    A body read whole with no Content-Encoding is handed over read and closed, as `aread()` would leave it, so
    the pipeline edge's `aread()` has nothing left to do (no async iteration of a one-chunk stream).
    """
    response = httpx.Response(
        status_code=code,
        headers=raw_headers,
        stream=httpx.ByteStream(content) if isinstance(content, bytes) else content,
        extensions={
            "http_version": _VERSIONS.get(version, b"HTTP/1.1"),
            "reason_phrase": (reason or "").encode("latin-1"),
        },
    )
    if isinstance(content, bytes) and "Content-Encoding" not in headers:  # (aiohttp's C multidict: cheap)
        response._content = content
        response._num_bytes_downloaded = len(content)
        response.is_stream_consumed = True
        response.is_closed = True
    return response


class _Expiry:
    """The call's deadline over one exchange: one loop timer that fails the reads in progress when it fires
    (a cancel scope per attempt costs several times more; see pipeline/_deadline)."""

    __slots__ = ("fired", "handle", "payload", "protocol")

    def __init__(self, loop: Any, seconds: float, protocol: ResponseHandler) -> None:
        self.fired = False
        self.payload: aiohttp.StreamReader | None = None
        self.protocol = protocol
        self.handle = loop.call_later(seconds, self._fire)

    def _fire(self) -> None:
        self.fired = True
        exc = aiohttp.ServerTimeoutError("the call's deadline passed")
        self.protocol.set_exception(exc)  # wakes a read of the head; the connection will not be reused
        if self.payload is not None:
            self.payload.set_exception(exc)  # wakes a read of the body


async def exchange(
    connector: aiohttp.BaseConnector,
    origin: ClientRequest,
    request: httpx.Request,
    data: bytes,
    timeout: aiohttp.ClientTimeout,
    whole: bool,
    loop: Any,
    remaining: float | None,
) -> httpx.Response:
    """Send `data` (head and body) on a pooled connection to `origin`; the response, its body read if `whole`.
    With `remaining` (seconds to the call's deadline), the exchange ends by then: connecting under `timeout`
    (capped by the caller), then the head (and the body, if `whole`) under one timer.

    Raises:
        httpx.TransportError: the failure's httpx meaning (ConnectTimeout while waiting for or opening a
            connection; see `mapped()` for the rest).
        DeadlineExceededError: the call's deadline passed while the head or the body was awaited.
    """
    try:
        connection = await connector.connect(origin, [], timeout)
    except TimeoutError as exc:
        raise httpx.ConnectTimeout("timed out opening or waiting for a connection", request=request) from exc
    except FAILURES as exc:
        raise mapped(exc, request) from exc
    protocol = connection.protocol
    expiry = None
    try:
        if protocol is None or protocol.transport is None:
            raise aiohttp.ServerDisconnectedError()
        if remaining is not None:
            expiry = _Expiry(loop, remaining, protocol)
        protocol.set_response_params(
            skip_payload=request.method == "HEAD",
            read_until_eof=True,  # a body with no length ends when the server closes (as in ClientSession)
            auto_decompress=False,
            read_timeout=timeout.sock_read,
            max_line_size=MAX_LINE,
            max_field_size=MAX_LINE,
            max_headers=MAX_HEADERS,
        )
        protocol.transport.write(data)
        protocol.start_timeout()  # sock_read counts from the end of the request, as in ClientSession
        message, payload = await protocol.read()
        while 100 <= message.code < 200 and message.code != 101:  # interim responses: wait for the final one
            message, payload = await protocol.read()
        if message.chunked or message.should_close:  # (the only framings a Transfer-Encoding can give)
            refuse_transfer_coding(message.headers, request)
        body = None
        if whole:
            if expiry is not None:
                expiry.payload = payload
            body = await payload.read()
    except BaseException as exc:
        connection.close()
        if expiry is not None:
            expiry.handle.cancel()
            if expiry.fired:
                raise passed(request) from exc
        if isinstance(exc, FAILURES):
            raise mapped(exc, request) from exc
        raise
    if expiry is not None:
        expiry.handle.cancel()  # a streamed body is read after the attempt, as under the retry policy's scope
    if body is not None:
        connection.release()
    return response_of(
        message.code,
        message.reason,
        message.version,
        message.raw_headers,
        message.headers,
        Body(payload, request, connection.release, connection.close) if body is None else body,
    )
