"""Streaming through the default chain: lazy downloads, truncated bodies, and uploads that can or cannot be resent."""

from __future__ import annotations

import json
import tempfile
import threading
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio.to_thread
import httpx
import pytest

from pipework import AsyncPipelineClient, RetryPolicy, history
from pipework.testing import VirtualClock, serve
from tests._asgi import read_body

pytestmark = pytest.mark.anyio

CHUNK = b"x" * 65536


class StreamingApp:
    """`/truncate/K` sends 40 of 100 bytes (then a full body from the 2nd request of K; `always` never);
    `/upload/K` answers 503 to the first request of K and then the body length; `/gated` sends one chunk,
    waits for `gate`, then sends 15 more."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.bodies: dict[str, list[bytes]] = {}
        self.gate = threading.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = await read_body(receive)
        path = scope["path"]
        self.counts[path] += 1
        self.bodies.setdefault(path, []).append(body)
        start = {"type": "http.response.start", "status": 200}
        if path.startswith("/truncate/"):
            await send({**start, "headers": [(b"content-length", b"100")]})
            if self.counts[path] == 1 or path.endswith("always"):
                await send({"type": "http.response.body", "body": b"a" * 40, "more_body": True})
                raise RuntimeError("connection dropped on purpose")
            await send({"type": "http.response.body", "body": b"a" * 100})
        elif path.startswith("/upload/"):
            status = 503 if self.counts[path] == 1 else 200
            payload = json.dumps({"length": len(body)}).encode()
            await send(
                {**start, "status": status, "headers": [(b"content-length", str(len(payload)).encode())]}
            )
            await send({"type": "http.response.body", "body": payload})
        elif path == "/gated":
            await send({**start, "headers": [(b"content-length", str(16 * len(CHUNK)).encode())]})
            await send({"type": "http.response.body", "body": CHUNK, "more_body": True})
            await anyio.to_thread.run_sync(self.gate.wait, 10)
            for _ in range(15):
                await send({"type": "http.response.body", "body": CHUNK, "more_body": True})
            await send({"type": "http.response.body", "body": b""})


@pytest.fixture(scope="module")
def app() -> StreamingApp:
    """The recording app."""
    return StreamingApp()


@pytest.fixture(scope="module")
def base(app: StreamingApp) -> Iterator[str]:
    """The app on a loopback port."""
    with serve(app) as url:
        yield url


def key() -> str:
    """A path segment no other test (or backend run) uses."""
    return uuid.uuid4().hex


async def test_streamed_body_is_handed_over_before_it_is_sent(base: str, app: StreamingApp) -> None:
    """client.stream() returns while the server still holds back 15 of 16 chunks: no policy reads the body."""
    app.gate.clear()
    async with AsyncPipelineClient() as client, client.stream("GET", f"{base}/gated") as response:
        assert response.status_code == 200
        assert not response.is_stream_consumed
        app.gate.set()
        received = 0
        async for chunk in response.aiter_raw():
            received += len(chunk)
    assert received == 16 * len(CHUNK)


async def test_truncated_body_names_both_sizes(base: str, clock: VirtualClock) -> None:
    """A body shorter than Content-Length raises an httpx.RemoteProtocolError naming 100 expected, 40 received."""
    async with AsyncPipelineClient(retry_policy=RetryPolicy(retry_total=1)) as client:
        with pytest.raises(httpx.RemoteProtocolError, match=r"received 40 bytes, expected 100") as caught:
            await client.get(f"{base}/truncate/always")
    assert [record.outcome for record in history(caught.value)] == ["unknown", "unknown"]


async def test_truncated_body_is_retried_for_get(base: str, clock: VirtualClock) -> None:
    """A GET whose body was cut short is retried (the body is read inside the retry loop) and succeeds."""
    async with AsyncPipelineClient() as client:
        response = await client.get(f"{base}/truncate/{key()}")
    assert response.content == b"a" * 100
    assert [record.error for record in history(response)] == ["RemoteProtocolError", None]


async def test_truncated_body_is_not_retried_for_post(
    base: str, app: StreamingApp, clock: VirtualClock
) -> None:
    """A POST whose response was cut short may have been processed: raised at once, never resent."""
    path = f"/truncate/{key()}"
    async with AsyncPipelineClient() as client:
        with pytest.raises(httpx.RemoteProtocolError, match="expected 100"):
            await client.post(f"{base}{path}", content=b"order")
    assert app.counts[path] == 1


async def test_truncated_stream_raises_while_reading(base: str, app: StreamingApp) -> None:
    """With stream=True the cut is seen by the caller's read, sizes named; the handed-over body is not retried."""
    path = f"/truncate/{key()}"
    async with AsyncPipelineClient() as client, client.stream("GET", f"{base}{path}") as response:
        with pytest.raises(httpx.RemoteProtocolError, match=r"received 40 bytes, expected 100"):
            await response.aread()
    assert app.counts[path] == 1


async def test_bytes_upload_is_resent_whole(base: str, app: StreamingApp, clock: VirtualClock) -> None:
    """A bytes body is sent again in full after a 503."""
    path = f"/upload/{key()}"
    async with AsyncPipelineClient() as client:
        response = await client.put(f"{base}{path}", content=b"b" * 1000)
    assert response.json() == {"length": 1000}
    assert app.bodies[path] == [b"b" * 1000] * 2


async def test_file_upload_is_rewound_on_retry(base: str, app: StreamingApp, clock: VirtualClock) -> None:
    """A file body is rewound to where it started, so the retry sends all of it again."""
    path = f"/upload/{key()}"
    payload = bytes(range(256)) * 1024
    with tempfile.TemporaryFile() as file:
        file.write(b"skip" + payload)
        file.seek(4)
        async with AsyncPipelineClient() as client:
            response = await client.put(f"{base}{path}", content=file)
    assert response.json() == {"length": len(payload)}
    assert app.bodies[path] == [payload, payload]


async def test_async_iterator_upload_is_sent_once(base: str, app: StreamingApp, clock: VirtualClock) -> None:
    """An async-iterator body cannot be replayed: the 503 is returned after one attempt, and history says why."""
    path = f"/upload/{key()}"

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"c" * 100

    async with AsyncPipelineClient() as client:
        response = await client.put(f"{base}{path}", content=chunks())
    assert response.status_code == 503
    assert app.bodies[path] == [b"c" * 400]
    records = history(response)
    assert len(records) == 1
    assert records[0].note is not None
    assert "one-shot" in records[0].note
