"""Per-request work that must not happen: bodies are handed over read (same state on both transports),
and nothing is read from the environment after the client is built."""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from pipework import AsyncPipelineClient, RetryConfig, history
from pipework.pipeline._context import AttemptRecord
from pipework.testing import ScriptedTransport, serve

pytestmark = pytest.mark.anyio

NO_RETRY = RetryConfig.disabled()
PLAIN = b'{"ok": true}'
ZIPPED = gzip.compress(b"zipped body " * 20)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """/plain: a JSON body; /gzip: a gzip-encoded body; /chunked: a body without Content-Length."""
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/gzip":
        headers = [(b"content-encoding", b"gzip"), (b"content-length", str(len(ZIPPED)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": ZIPPED})
        return
    if path == "/chunked":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"part1;", "more_body": True})
        await send({"type": "http.response.body", "body": b"part2"})
        return
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(PLAIN)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": PLAIN})


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """One loopback server for the module."""
    with serve(app) as url:
        yield url


@pytest.mark.parametrize(
    ("path", "body"),
    [("/plain", PLAIN), ("/gzip", b"zipped body " * 20), ("/chunked", b"part1;part2")],
)
async def test_a_read_response_is_left_as_aread_leaves_it(
    base_url: str, make_transport: Callable[[], httpx.AsyncBaseTransport], path: str, body: bytes
) -> None:
    """A non-streamed response comes back read, decoded, closed, counted: the same state on either transport."""
    async with AsyncPipelineClient(base_url, transport=make_transport(), retry_policy=NO_RETRY) as client:
        response = await client.get(path)
    assert response.content == body
    assert response.is_stream_consumed
    assert response.is_closed
    wire = ZIPPED if path == "/gzip" else body
    assert response.num_bytes_downloaded == len(wire)
    assert response.elapsed.total_seconds() > 0
    assert await response.aread() == body  # reading again gives the same body, no StreamConsumed


async def test_a_streamed_response_is_left_unread(
    base_url: str, make_transport: Callable[[], httpx.AsyncBaseTransport]
) -> None:
    """stream=True still hands the body over unread on either transport."""
    async with (
        AsyncPipelineClient(base_url, transport=make_transport(), retry_policy=NO_RETRY) as client,
        client.stream("GET", "/gzip") as response,
    ):
        assert not response.is_stream_consumed
        assert await response.aread() == b"zipped body " * 20


class RecordingEnviron(dict[str, str]):
    """os.environ stand-in that records every variable looked up."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.looked_up: list[str] = []

    def __getitem__(self, key: str) -> str:
        self.looked_up.append(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.looked_up.append(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self.looked_up.append(str(key))
        return super().__contains__(key)

    def items(self) -> Any:
        self.looked_up.append("<items>")
        return super().items()

    def keys(self) -> Any:
        self.looked_up.append("<keys>")
        return super().keys()

    def __iter__(self) -> Any:
        self.looked_up.append("<iter>")
        return super().__iter__()


async def test_the_environment_is_read_at_construction_only(
    base_url: str, make_transport: Callable[[], httpx.AsyncBaseTransport], monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the client is built, requests read no variable, and proxy/CA/netrc variables set later change nothing."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    async with AsyncPipelineClient(base_url, transport=make_transport(), retry_policy=NO_RETRY) as client:
        assert (await client.get("/plain")).content == PLAIN  # pools and caches warm
        recording = RecordingEnviron(dict(os.environ))
        recording.update(
            HTTP_PROXY="http://127.0.0.1:9",  # a proxy that would refuse every connection
            http_proxy="http://127.0.0.1:9",
            ALL_PROXY="http://127.0.0.1:9",
            SSL_CERT_FILE="/nonexistent/ca.pem",
            NETRC="/nonexistent/netrc",
        )
        monkeypatch.setattr(os, "environ", recording)
        responses = [await client.get(path) for path in ("/plain", "/gzip", "/plain")]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert recording.looked_up == []


def test_the_retry_note_keeps_every_attempt_record_field() -> None:
    """The retry policy rebuilds the last AttemptRecord field by field: the list must match the class."""
    assert [field for field in AttemptRecord.__dataclass_fields__] == [
        "number", "method", "raw_url", "outcome", "status", "error", "elapsed", "delay", "note",
    ]  # fmt: skip


async def test_a_retried_call_records_delay_and_note(clock: Any) -> None:
    """503 then 200: the first record keeps its fields and gains the delay slept and the note."""
    transport = ScriptedTransport(503, 200)
    async with AsyncPipelineClient(transport=transport) as client:
        response = await client.get("http://h.test/x")
    first, second = history(response)
    assert (first.number, first.method, first.outcome, first.status) == (1, "GET", "rejected", 503)
    assert first.error is None
    assert str(first.raw_url) == "http://h.test/x"
    assert first.elapsed >= 0
    assert first.delay == clock.sleeps[0] > 0
    assert first.note == "retried"
    assert (second.number, second.outcome, second.delay, second.note) == (2, "success", 0.0, None)
