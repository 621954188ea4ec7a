"""Request bodies on retry: bytes and files resent whole, one-shot streams not retried, no leaked connections."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from pipework import AsyncPipelineClient, history
from pipework.testing import VirtualClock

from ._servers import ScriptedApp

pytestmark = pytest.mark.anyio

Server = tuple[str, ScriptedApp]


async def test_bytes_body_is_resent(server: Server, clock: VirtualClock) -> None:
    """Every attempt carries the same bytes."""
    url, app = server
    path = app.script(503, 503, 200)
    async with AsyncPipelineClient(url) as client:
        response = await client.put(path, content=b"payload")
    assert response.status_code == 200
    assert app.bodies[path.strip("/")] == [b"payload"] * 3


async def test_json_body_is_resent(server: Server, clock: VirtualClock) -> None:
    """A JSON body (POST with an Idempotency-Key) is resent identically."""
    url, app = server
    path = app.script(500, 201)
    async with AsyncPipelineClient(url) as client:
        response = await client.post(path, json={"a": 1}, headers={"Idempotency-Key": "k"})
    assert response.status_code == 201
    assert app.bodies[path.strip("/")] == [b'{"a":1}'] * 2


async def test_seekable_file_is_resent_from_its_start(
    server: Server, clock: VirtualClock, tmp_path: Path
) -> None:
    """An open file is rewound to where it stood when the call began: the whole body on every attempt."""
    url, app = server
    path = app.script(503, 503, 200)
    data = bytes(range(256)) * 1024  # larger than one read chunk
    file = tmp_path / "upload.bin"
    file.write_bytes(b"HEADER" + data)
    async with AsyncPipelineClient(url) as client:
        with file.open("rb") as body:
            body.seek(6)
            response = await client.put(path, content=body)
    assert response.status_code == 200
    assert app.bodies[path.strip("/")] == [data] * 3


@pytest.mark.parametrize("kind", ["disk", "memory"])
async def test_file_upload_declares_its_length(
    server: Server,
    clock: VirtualClock,
    tmp_path: Path,
    make_transport: Callable[..., httpx.AsyncBaseTransport],
    kind: str,
) -> None:
    """A file body goes out with Content-Length (what lay past its position), never chunked, on every attempt.

    Object stores (S3, Azure Blob) refuse chunked uploads; both transports must frame the file the same way.
    """
    url, app = server
    path = app.script(503, 200)
    data = bytes(range(256)) * 600  # 150 KiB: more than one read chunk
    (tmp_path / "upload.bin").write_bytes(b"HEAD" + data)
    async with AsyncPipelineClient(url, transport=make_transport()) as client:
        with (tmp_path / "upload.bin").open("rb") if kind == "disk" else io.BytesIO(b"HEAD" + data) as body:
            body.seek(4)
            response = await client.put(path, content=body)
    assert response.status_code == 200
    assert app.bodies[path.strip("/")] == [data] * 2
    for seen in app.headers[path.strip("/")]:
        assert seen.get("content-length") == str(len(data))
        assert "transfer-encoding" not in seen


async def test_file_upload_sends_the_length_it_declared(
    server: Server, clock: VirtualClock, tmp_path: Path
) -> None:
    """A file that grows after the request was built sends what it declared, not a body longer than its header."""
    url, app = server
    path = app.script(200)
    file = tmp_path / "growing.log"
    file.write_bytes(b"x" * 1000)
    async with AsyncPipelineClient(url) as client:
        with file.open("rb") as body:
            request = client.build_request("PUT", path, content=body)
            with file.open("ab") as writer:
                writer.write(b"y" * 500)
            response = await client.send(request)
    assert response.status_code == 200
    assert app.bodies[path.strip("/")] == [b"x" * 1000]
    assert app.headers[path.strip("/")][0]["content-length"] == "1000"


async def test_chunked_file_upload_when_asked(server: Server, clock: VirtualClock) -> None:
    """A caller's own Transfer-Encoding: chunked is kept: the file is sent chunked, whole."""
    url, app = server
    path = app.script(200)
    async with AsyncPipelineClient(url) as client:
        response = await client.put(
            path, content=io.BytesIO(b"abc" * 100), headers={"Transfer-Encoding": "chunked"}
        )
    assert response.status_code == 200
    [seen] = app.headers[path.strip("/")]
    assert seen["transfer-encoding"] == "chunked"
    assert "content-length" not in seen
    assert app.bodies[path.strip("/")] == [b"abc" * 100]


async def test_async_iterator_body_is_not_retried(
    server: Server, clock: VirtualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A one-shot async iterator cannot be sent twice: the 503 is returned and the log says why."""
    url, app = server
    path = app.script(503, 200)

    async def chunks() -> AsyncIterator[bytes]:
        yield b"one-"
        yield b"shot"

    caplog.set_level(logging.INFO, logger="pipework.retry")
    async with AsyncPipelineClient(url) as client:
        response = await client.put(path, content=chunks())
    assert response.status_code == 503
    assert app.count(path) == 1
    assert app.bodies[path.strip("/")] == [b"one-shot"]
    assert clock.sleeps == []
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "one-shot stream" in warning
    assert "one-shot stream" in (history(response)[-1].note or "")


@pytest.mark.parametrize("stream", [False, True])
async def test_discarded_responses_are_closed(server: Server, clock: VirtualClock, stream: bool) -> None:
    """With a pool of one connection, retries (streamed or not) and later calls never wait for a free one."""
    url, app = server
    path = app.script(503, 503, 503, 200)
    timeout = httpx.Timeout(5.0, pool=0.5)
    limits = httpx.Limits(max_connections=1)
    async with AsyncPipelineClient(url, limits=limits, timeout=timeout) as client:
        if stream:
            async with client.stream("GET", path) as response:
                assert response.status_code == 200
                assert await response.aread() == b"attempt 4"
        else:
            response = await client.get(path)
            assert response.text == "attempt 4"
        assert [a.status for a in history(response)] == [503, 503, 503, 200]
        for _ in range(3):
            assert (await client.get(path)).status_code == 200
    assert app.count(path) == 7
