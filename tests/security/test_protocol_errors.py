"""HTTP parsers quote the input they refuse; a token or a cookie in that input never reaches an error message.

h11 (the default transport) writes "Illegal header value b'Bearer ...'" for a request header and "illegal
header line: bytearray(b'Set-Cookie ...')" for a response header; aiohttp's parser quotes the line too. On
both transports, the error a caller sees, and every exception it was raised from (what a logged traceback
prints), keep the header's name and lose the value.
"""

from __future__ import annotations

import socket
import traceback
from collections.abc import Callable

import httpx
import pytest

from pipework import AsyncPipelineClient, RetryConfig
from pipework._redact import scrub_protocol_error
from tests.reliability._support import raw_server, read_request_head

pytestmark = pytest.mark.anyio

MakeTransport = Callable[..., httpx.AsyncBaseTransport]
SECRET = "s3cr3t-6f1d"
NO_RETRY = RetryConfig(total=0, timeout=5)


def _everything(exc: BaseException) -> str:
    """What a logged traceback of `exc` would print: its chain, messages included."""
    return "".join(traceback.format_exception(exc))


def _answering(head: bytes) -> Callable[[socket.socket], None]:
    def handler(conn: socket.socket) -> None:
        read_request_head(conn)
        conn.sendall(head)

    return handler


async def test_request_header_value_with_a_newline(make_transport: MakeTransport) -> None:
    """A token read from a file with its trailing newline: refused, the error names Authorization, not the token."""
    with raw_server(_answering(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")) as url:
        async with AsyncPipelineClient(url, transport=make_transport(), retry_policy=NO_RETRY) as client:
            with pytest.raises(httpx.LocalProtocolError) as info:
                await client.get("/", headers={"Authorization": f"Bearer {SECRET}\n"})
    assert "Authorization" in str(info.value)
    assert SECRET not in _everything(info.value)


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nSet-Cookie sid=" + SECRET.encode() + b"\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nSet Cookie: sid=" + SECRET.encode() + b"\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 2x0 " + SECRET.encode() + b"\r\nContent-Length: 0\r\n\r\n",
    ],
    ids=["no-colon", "space-in-name", "bad-status-line"],
)
async def test_malformed_response_head(make_transport: MakeTransport, head: bytes) -> None:
    """A malformed response header or status line: RemoteProtocolError, the quoted line not shown."""
    with raw_server(_answering(head)) as url:
        async with AsyncPipelineClient(url, transport=make_transport(), retry_policy=NO_RETRY) as client:
            with pytest.raises(httpx.RemoteProtocolError) as info:
                await client.get("/")
    assert "REDACTED" in str(info.value)
    assert SECRET not in _everything(info.value)


def test_scrub_keeps_what_is_not_quoted() -> None:
    """Header names stay (from a header line, or matched against the request's headers); plain text is untouched."""
    line = ValueError("illegal header line: bytearray(b'Set-Cookie: sid=abc')")
    value = ValueError("Illegal header value b'Bearer abc\\n'")
    plain = ValueError("Only Transfer-Encoding: chunked is supported")
    prose = ValueError("Can't send data when our state is ERROR; isn't it 'closed'?")
    for exc in (line, value, plain, prose):
        scrub_protocol_error(exc, [(b"Authorization", b"Bearer abc\n")])
    assert str(line) == "illegal header line: 'Set-Cookie: REDACTED'"
    assert str(value) == "Illegal header value 'Authorization: REDACTED'"
    assert str(plain) == "Only Transfer-Encoding: chunked is supported"
    assert str(prose).startswith(
        "Can't send data when our state is ERROR; isn't it "
    )  # apostrophes open nothing
