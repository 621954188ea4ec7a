"""HTTP/1.1 edge cases, exact bytes from raw-socket servers: AiohttpTransport held to the default (httpcore) transport.

Each server is scripted per test; it records the client port of every request, so connection reuse is observed
at the server, as a user's load balancer would see it.
"""

from __future__ import annotations

import gzip
import re
import socket
import time
import zlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import httpx
import pytest

from pipework import AsyncPipelineClient, RetryConfig
from pipework.transports import create_transport
from tests.reliability._support import raw_server, read_request_head

pytestmark = pytest.mark.anyio

MakeTransport = Callable[..., httpx.AsyncBaseTransport]
BOUND = RetryConfig(total=0, timeout=5)  # no retry, and a deadline: a bug fails instead of hanging
HANG = 8  # seconds: past the call's deadline, so a hang shows as a failure of the deadline, not of this guard
LINGER = 0.3  # seconds a "lazy" server keeps a connection open after it meant to stop using it


class Script:
    """A raw server's script: `answer(head)` gives the bytes to send and whether to keep the connection."""

    def __init__(self, answer: Callable[[bytes], tuple[bytes, bool]], linger: float = 0.0) -> None:
        self.answer = answer
        self.linger = linger  # after a last answer: stay open this long (without reading) before closing
        self.ports: list[int] = []
        self.heads: list[bytes] = []

    def __call__(self, conn: socket.socket) -> None:
        while head := _read_request(conn):
            self.ports.append(conn.getpeername()[1])
            self.heads.append(head)
            data, keep = self.answer(head)
            conn.sendall(data)
            if not keep:
                time.sleep(self.linger)
                conn.shutdown(socket.SHUT_WR)
                return


def _read_request(conn: socket.socket) -> bytes:
    """A request's head, its body (Content-Length or chunked) read and dropped; b"" at the end of the stream."""
    head, _, body = read_request_head(conn).partition(b"\r\n\r\n")
    length = re.search(rb"\r\ncontent-length: *(\d+)", head.lower())
    chunked = b"\r\ntransfer-encoding: chunked" in head.lower()
    while (chunked and not body.endswith(b"0\r\n\r\n")) or (length and len(body) < int(length[1])):
        part = conn.recv(65536)
        if not part:
            break
        body += part
    return head


def always(data: bytes, keep: bool = True) -> Callable[[bytes], tuple[bytes, bool]]:
    """An answer that is the same for every request."""
    return lambda head: (data, keep)


def _client(url: str, make_transport: MakeTransport) -> AsyncPipelineClient:
    return AsyncPipelineClient(url, transport=make_transport(), retry_policy=BOUND)


async def _parts() -> AsyncIterator[bytes]:
    """A streamed upload: AiohttpTransport sends it through ClientSession, not its direct path."""
    yield b"up"
    yield b"load"


async def _twice(
    url: str,
    make_transport: MakeTransport,
    method: str = "GET",
    stream: bool = False,
    upload: bool = False,
    **kwargs: Any,
) -> list[httpx.Response]:
    """Two calls on one client (bodies read whole, or through `stream()` and `aiter_bytes`; with `upload`, a
    streamed request body)."""
    responses = []
    with anyio.fail_after(HANG):
        async with _client(url, make_transport) as client:
            for _ in range(2):
                if upload:
                    kwargs["content"] = _parts()
                if stream:
                    async with client.stream(method, "/", **kwargs) as response:
                        response._content = b"".join([part async for part in response.aiter_bytes()])
                else:
                    response = await client.request(method, "/", **kwargs)
                responses.append(response)
    return responses


CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"3;name=value\r\nabc\r\n4;flag\r\ndefg\r\n1\r\nh\r\n0\r\nX-Trailer: t\r\nX-Other: u\r\n\r\n"
)


@pytest.mark.parametrize("stream", [False, True])
async def test_chunked_with_extensions_and_trailers_then_reuse(
    make_transport: MakeTransport, stream: bool
) -> None:
    """Several chunks, chunk extensions and trailers: the body is the chunks' data, the connection is reused."""
    script = Script(always(CHUNKED))
    with raw_server(script) as url:
        responses = await _twice(url, make_transport, stream=stream)
    assert [(r.status_code, r.content) for r in responses] == [(200, b"abcdefgh")] * 2
    assert "x-trailer" not in responses[0].headers  # trailers are not headers (neither transport shows them)
    assert len(script.ports) == 2
    assert len(set(script.ports)) == 1


@pytest.mark.parametrize("stream", [False, True])
async def test_body_read_until_close_then_a_new_connection(
    make_transport: MakeTransport, stream: bool
) -> None:
    """No Content-Length and not chunked: the body is everything until the server closes; no reuse after."""
    script = Script(always(b"HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\n" + b"until-close " * 1000, keep=False))
    with raw_server(script) as url:
        responses = await _twice(url, make_transport, stream=stream)
    assert [r.content for r in responses] == [b"until-close " * 1000] * 2
    assert len(set(script.ports)) == 2


async def test_server_connection_close_is_honoured_before_the_socket_closes(
    make_transport: MakeTransport,
) -> None:
    """`Connection: close` with a Content-Length, the socket left open a while: the next call opens a new one."""
    answer = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
    script = Script(always(answer, keep=False), linger=LINGER)
    with raw_server(script) as url:
        responses = await _twice(url, make_transport)
    assert [(r.status_code, r.content) for r in responses] == [(200, b"ok")] * 2
    assert len(set(script.ports)) == 2


@pytest.mark.parametrize("upload", [False, True])
async def test_connection_close_sent_by_the_caller(make_transport: MakeTransport, upload: bool) -> None:
    """A caller's `Connection: close` goes on the wire and the connection is not used again, even when the
    server's answer does not say close and the server is slow to close its end."""
    script = Script(always(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", keep=False), linger=LINGER)
    with raw_server(script) as url:
        responses = await _twice(
            url, make_transport, method="POST", upload=upload, headers={"Connection": "keep-alive, Close"}
        )
    assert [r.content for r in responses] == [b"ok"] * 2
    assert all(b"\r\nconnection: keep-alive, close\r\n" in head.lower() for head in script.heads)
    assert len(set(script.ports)) == 2


async def test_http_1_0_response(make_transport: MakeTransport) -> None:
    """An HTTP/1.0 status line: version reported, body read; no keep-alive asked, so no reuse (the server
    keeps its end open a while, so reusing it would hang)."""
    script = Script(always(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", keep=False), linger=LINGER)
    with raw_server(script) as url:
        responses = await _twice(url, make_transport)
    assert [(r.http_version, r.status_code, r.content) for r in responses] == [("HTTP/1.0", 200, b"ok")] * 2
    assert len(set(script.ports)) == 2


async def test_http_1_0_keep_alive(make_transport: MakeTransport) -> None:
    """HTTP/1.0 with `Connection: keep-alive`: both transports answer right. Accepted difference: httpcore (h11)
    never reuses an HTTP/1.0 connection; aiohttp honours the keep-alive and reuses it (equally correct)."""
    answer = b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok"
    script = Script(always(answer))
    with raw_server(script) as url:
        responses = await _twice(url, make_transport)
    assert [(r.http_version, r.content) for r in responses] == [("HTTP/1.0", b"ok")] * 2
    assert len(set(script.ports)) == (2 if make_transport is create_transport else 1)


@pytest.mark.parametrize(
    "length",
    [
        b"Content-Length: 2\r\nContent-Length: 5",  # conflicting duplicates
        b"Content-Length: -1",
        b"Content-Length: abc",
        b"Content-Length: +2",
        b"Content-Length: 0x2",
        b"Content-Length: 2, 5",
    ],
)
async def test_invalid_content_length_is_a_protocol_error(
    make_transport: MakeTransport, length: bytes
) -> None:
    """A Content-Length that does not say one length: RemoteProtocolError at once, never a guessed body."""
    script = Script(always(b"HTTP/1.1 200 OK\r\n" + length + b"\r\n\r\nokxyz", keep=False))
    with raw_server(script) as url, anyio.fail_after(HANG), pytest.raises(httpx.RemoteProtocolError):
        async with _client(url, make_transport) as client:
            await client.get("/")


@pytest.mark.parametrize(
    "framing",
    [
        b"Content-Length: 2\r\nContent-Length: 2",
        b"Content-Length: 2, 2",
        b"Content-Length: 9\r\nTransfer-Encoding: chunked",
    ],
)
async def test_redundant_or_doubtful_framing(make_transport: MakeTransport, framing: bytes) -> None:
    """Framing a recipient MAY accept or reject (RFC 9110 8.6, RFC 9112 6.3): the right body or a
    RemoteProtocolError, never a wrong body. Accepted difference: httpcore (h11) accepts repeated equal lengths
    and lets chunked override Content-Length; aiohttp's parser refuses all three (stricter, equally correct)."""
    body = b"2\r\nok\r\n0\r\n\r\n" if b"chunked" in framing else b"ok"
    script = Script(always(b"HTTP/1.1 200 OK\r\n" + framing + b"\r\n\r\n" + body))
    with raw_server(script) as url, anyio.fail_after(HANG):
        async with _client(url, make_transport) as client:
            try:
                outcome: bytes | type[Exception] = (await client.get("/")).content
            except httpx.RemoteProtocolError:
                outcome = httpx.RemoteProtocolError
    assert outcome == (b"ok" if make_transport is create_transport else httpx.RemoteProtocolError)


@pytest.mark.parametrize("upload", [False, True])
@pytest.mark.parametrize("coding", [b"gzip, chunked", b"gzip", b"identity"])
async def test_transfer_codings_other_than_chunked_are_refused(
    make_transport: MakeTransport, coding: bytes, upload: bool
) -> None:
    """A Transfer-Encoding other than `chunked` (the client never asked for one): RemoteProtocolError, as
    httpcore does, rather than a body still transfer-coded (aiohttp's parser decodes only `chunked`)."""
    framed = b"2\r\nok\r\n0\r\n\r\n" if b"chunked" in coding else gzip.compress(b"ok")
    answer = b"HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: " + coding + b"\r\n\r\n" + framed
    script = Script(always(answer, keep=False))
    with raw_server(script) as url, anyio.fail_after(HANG):
        async with _client(url, make_transport) as client:
            with pytest.raises(httpx.RemoteProtocolError):
                await client.post("/", content=_parts() if upload else b"")
            with pytest.raises(httpx.RemoteProtocolError):
                async with client.stream("POST", "/", content=_parts() if upload else b"") as response:
                    await response.aread()


async def test_response_headers_as_sent(make_transport: MakeTransport) -> None:
    """Header names keep their case and order in headers.raw; repeated Set-Cookie stay separate; an obs-fold
    continuation is joined with a space; a Latin-1 byte survives."""
    answer = (
        b"HTTP/1.1 200 OK\r\nX-CamelCase: MiXeD\r\nSet-Cookie: a=1; Path=/\r\nset-cookie: b=2, c=3\r\n"
        b"X-Folded: one\r\n two\r\nX-Latin: caf\xe9\r\ncontent-length: 2\r\n\r\nok"
    )
    script = Script(always(answer))
    with raw_server(script) as url:
        responses = await _twice(url, make_transport)
    assert responses[0].headers.raw == [
        (b"X-CamelCase", b"MiXeD"),
        (b"Set-Cookie", b"a=1; Path=/"),
        (b"set-cookie", b"b=2, c=3"),
        (b"X-Folded", b"one two"),
        (b"X-Latin", b"caf\xe9"),
        (b"content-length", b"2"),
    ]
    assert responses[0].headers.get_list("set-cookie") == ["a=1; Path=/", "b=2, c=3"]
    assert len(set(script.ports)) == 1


PLAIN = b"compressible text " * 2000


@pytest.mark.parametrize(
    ("coding", "encoded"),
    [
        (b"gzip", gzip.compress(PLAIN)),
        (b"deflate", zlib.compress(PLAIN)),
        (b"deflate", zlib.compress(PLAIN)[2:-4]),  # raw deflate, as some servers send it
    ],
)
@pytest.mark.parametrize("stream", [False, True])
async def test_content_encoding_is_decoded_by_httpx(
    make_transport: MakeTransport, coding: bytes, encoded: bytes, stream: bool
) -> None:
    """gzip and deflate bodies decode to the same text on both transports; the headers still name the coding."""
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Encoding: " + coding + b"\r\nContent-Length: %d\r\n\r\n" % len(encoded)
    )
    script = Script(always(head + encoded))
    with raw_server(script) as url:
        responses = await _twice(url, make_transport, stream=stream)
    assert [r.content for r in responses] == [PLAIN] * 2
    assert responses[0].headers["content-encoding"] == coding.decode()
    assert responses[0].headers["content-length"] == str(len(encoded))
    assert len(set(script.ports)) == 1


async def test_corrupt_gzip_is_a_decoding_error(make_transport: MakeTransport) -> None:
    """A body that is not the gzip it claims: httpx.DecodingError on both transports."""
    script = Script(always(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\n\r\nnotgz"))
    with raw_server(script) as url, anyio.fail_after(HANG), pytest.raises(httpx.DecodingError):
        async with _client(url, make_transport) as client:
            await client.get("/")


UPLOAD = b"u" * (900 * 1024)
TOO_LARGE = b"HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 8\r\n\r\ntoo big!"


def _refuse_upload(graceful: bool) -> Callable[[socket.socket], None]:
    def handler(conn: socket.socket) -> None:
        read_request_head(conn)
        conn.sendall(TOO_LARGE)
        if graceful:  # a well-behaved server: half-close, then drain what the client still sends
            conn.shutdown(socket.SHUT_WR)
            conn.settimeout(3)
            while conn.recv(65536):
                pass
        else:  # a blunt one: close with the upload unread (the kernel answers the rest with a reset)
            conn.close()

    return handler


@pytest.mark.parametrize("graceful", [True, False])
async def test_early_answer_to_a_large_upload(make_transport: MakeTransport, graceful: bool) -> None:
    """A server answering 413 before reading a 900 KiB upload: the 413 (or, if a reset overtook it, a clean
    httpx.TransportError), within the deadline; a server that drains the upload is always seen to answer 413."""
    with raw_server(_refuse_upload(graceful)) as url, anyio.fail_after(HANG):
        async with _client(url, make_transport) as client:
            try:
                outcome: Any = await client.post("/upload", content=UPLOAD)
            except httpx.TransportError as exc:
                outcome = exc
    if graceful or isinstance(outcome, httpx.Response):
        assert isinstance(outcome, httpx.Response)
        assert (outcome.status_code, outcome.content) == (413, b"too big!")


def _endless_or_small(script: list[int]) -> Callable[[socket.socket], None]:
    def handler(conn: socket.socket) -> None:
        while head := read_request_head(conn):
            script.append(conn.getpeername()[1])
            if head.startswith(b"GET /endless "):
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n")
                while True:  # until the client goes away (then sendall raises and the handler ends)
                    conn.sendall(b"e" * 65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nsmall")

    return handler


async def test_stream_closed_half_read_while_the_server_keeps_sending(make_transport: MakeTransport) -> None:
    """A streamed body dropped after 256 KiB of an endless one: no hang, and that connection is not reused."""
    ports: list[int] = []
    with raw_server(_endless_or_small(ports)) as url, anyio.fail_after(HANG):
        async with _client(url, make_transport) as client:
            received = 0
            async with client.stream("GET", "/endless") as response:
                async for part in response.aiter_raw():
                    received += len(part)
                    if received >= 256 * 1024:
                        break
            after = [(await client.get("/small")).content for _ in range(2)]
    assert after == [b"small"] * 2
    assert ports[0] != ports[1] == ports[2]  # a new connection after the dropped one, then reused


@pytest.mark.parametrize("stream", [False, True])
async def test_head_with_a_content_length_then_reuse(make_transport: MakeTransport, stream: bool) -> None:
    """HEAD answered with Content-Length: 1 MB and no body: nothing is awaited, and the connection is reused."""
    script = Script(always(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n"))
    with raw_server(script) as url:
        responses = await _twice(url, make_transport, method="HEAD", stream=stream)
    assert [(r.status_code, r.content, r.headers["content-length"]) for r in responses] == [
        (200, b"", "1000000")
    ] * 2
    assert len(script.ports) == 2
    assert len(set(script.ports)) == 1


async def test_bytes_past_the_declared_end(make_transport: MakeTransport) -> None:
    """A 204 that carries a body: never a wrong body; the garbage is a RemoteProtocolError. Accepted difference:
    httpcore returns the 204 and fails the next call on that connection; aiohttp's parser fails the 204 itself
    (the bytes arrived with it). Either way the error is a RemoteProtocolError and nothing is misread."""
    script = Script(always(b"HTTP/1.1 204 No Content\r\nContent-Length: 2\r\n\r\nok"))
    outcomes: list[Any] = []
    with raw_server(script) as url, anyio.fail_after(HANG):
        async with _client(url, make_transport) as client:
            for _ in range(2):
                try:
                    response = await client.get("/")
                    outcomes.append((response.status_code, response.content))
                except httpx.RemoteProtocolError:
                    outcomes.append(httpx.RemoteProtocolError)
    if make_transport is create_transport:
        assert outcomes == [(204, b""), httpx.RemoteProtocolError]
    else:
        assert outcomes == [httpx.RemoteProtocolError] * 2


async def test_idle_connection_closed_by_the_server(make_transport: MakeTransport) -> None:
    """The server closes a keep-alive connection while it idles in the pool: the next call opens a new one."""
    script = Script(always(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", keep=False))
    with raw_server(script) as url, anyio.fail_after(HANG):
        async with _client(url, make_transport) as client:
            first = await client.get("/")
            await anyio.sleep(0.2)  # the server's FIN reaches the pooled connection
            second = await client.get("/")
    assert (first.content, second.content) == (b"ok", b"ok")
    assert len(set(script.ports)) == 2


@pytest.mark.parametrize("upload", [False, True], ids=["direct", "session"])
async def test_long_header_line_is_taken(make_transport: MakeTransport, upload: bool) -> None:
    """A 20 KB header (a big Content-Security-Policy or cookie) is taken as httpx's transport takes it (aiohttp's
    own 8 KiB default would refuse it), on both of AiohttpTransport's paths; the connection is reused."""
    policy = b"default-src " + b"x" * 20_000
    script = Script(
        always(b"HTTP/1.1 200 OK\r\nContent-Security-Policy: " + policy + b"\r\nContent-Length: 2\r\n\r\nok")
    )
    with raw_server(script) as url:
        responses = await _twice(url, make_transport, method="POST" if upload else "GET", upload=upload)
    assert [(r.status_code, r.content) for r in responses] == [(200, b"ok")] * 2
    assert all(r.headers["content-security-policy"].encode() == policy for r in responses)
    assert len(set(script.ports)) == 1
