"""HTTPS on both transports, against a loopback server with a certificate from a test CA (trustme).

AiohttpTransport's direct path writes on the connection aiohttp's connector opened, so TLS (handshake,
verification, SNI) is aiohttp's; these tests hold both transports to the same behaviour: verified exchanges
with reuse, bodies on both aiohttp paths, and the refusals (unknown CA, wrong name) as httpx.ConnectError.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import trustme

from pipework import AsyncPipelineClient, RetryConfig
from pipework.testing import serve
from tests._asgi import read_body

pytestmark = pytest.mark.anyio

MakeTransport = Callable[..., httpx.AsyncBaseTransport]
NO_RETRY = RetryConfig.disabled()
seen: list[tuple[str, int, str | None]] = []  # (scheme, client port, x-probe header) per request


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers `<scheme>:<length of the body>`, recording what arrived."""
    if scope["type"] != "http":
        return
    headers = dict(scope["headers"])
    probe = headers.get(b"x-probe")
    seen.append((scope["scheme"], scope["client"][1], probe.decode() if probe else None))
    body = await read_body(receive)
    content = f"{scope['scheme']}:{len(body)}".encode()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(content))]}
    )
    await send({"type": "http.response.body", "body": content})


def _serve_with(certificate: trustme.LeafCert) -> Iterator[str]:
    with certificate.private_key_and_cert_chain_pem.tempfile() as pem, serve(app, ssl_certfile=pem) as url:
        yield url


@pytest.fixture(scope="module")
def https_url(ca: trustme.CA) -> Iterator[str]:
    """A TLS server whose certificate names 127.0.0.1, signed by `ca`."""
    yield from _serve_with(ca.issue_cert("127.0.0.1", "localhost"))


@pytest.fixture(scope="module")
def misnamed_url(ca: trustme.CA) -> Iterator[str]:
    """A TLS server whose certificate (signed by `ca`) names another host."""
    yield from _serve_with(ca.issue_cert("api.example.test"))


@pytest.fixture(autouse=True)
def _clear_seen() -> None:
    seen.clear()


async def test_verified_exchanges_reuse_one_connection(
    https_url: str, make_transport: MakeTransport, trusting: ssl.SSLContext
) -> None:
    """Verified against the test CA: headers and bodies arrive over TLS, and the connection is kept."""
    transport = make_transport(verify=trusting)
    async with AsyncPipelineClient(https_url, transport=transport, retry_policy=NO_RETRY) as client:
        first = await client.get("/", headers={"x-probe": "one"})
        second = await client.post("/", content=b"p" * 1000, headers={"x-probe": "two"})
    assert (first.text, second.text) == ("https:0", "https:1000")
    assert [(scheme, probe) for scheme, _, probe in seen] == [("https", "one"), ("https", "two")]
    assert seen[0][1] == seen[1][1]  # one client port: the TLS connection went back to the pool


async def test_large_upload_over_tls(
    https_url: str, make_transport: MakeTransport, trusting: ssl.SSLContext
) -> None:
    """A body past the direct path's limit (aiohttp: through ClientSession) arrives whole over TLS."""
    async with AsyncPipelineClient(https_url, transport=make_transport(verify=trusting)) as client:
        response = await client.put("/", content=b"u" * (3 * 1024 * 1024))
    assert response.text == f"https:{3 * 1024 * 1024}"


async def test_unknown_ca_is_refused(https_url: str, make_transport: MakeTransport) -> None:
    """With the system's trust store the test CA is unknown: ConnectError naming the verification, nothing sent."""
    async with AsyncPipelineClient(https_url, transport=make_transport(), retry_policy=NO_RETRY) as client:
        with pytest.raises(httpx.ConnectError, match=r"(?i)certificate verify failed"):
            await client.get("/")
    assert seen == []


async def test_wrong_host_name_is_refused(
    misnamed_url: str, make_transport: MakeTransport, trusting: ssl.SSLContext
) -> None:
    """A certificate from a trusted CA for another host name is refused: hostname checking is on."""
    transport = make_transport(verify=trusting)
    async with AsyncPipelineClient(misnamed_url, transport=transport, retry_policy=NO_RETRY) as client:
        with pytest.raises(httpx.ConnectError, match=r"(?i)(hostname|ip address) mismatch"):
            await client.get("/")
    assert seen == []


async def test_verify_false_accepts_any_certificate(misnamed_url: str, make_transport: MakeTransport) -> None:
    """verify=False (tests only) talks to the misnamed server."""
    async with AsyncPipelineClient(misnamed_url, transport=make_transport(verify=False)) as client:
        response = await client.get("/")
    assert response.text == "https:0"
