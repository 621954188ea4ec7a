"""Streamed download memory: pipework's full default chain against raw httpx and raw aiohttp, 1 GiB each by default.

Candidates: raw `httpx.AsyncClient`, raw `aiohttp.ClientSession` (`content.iter_chunked(64 KiB)`), pipework's
`stream()` and `send(stream=True)` on the default transport (asyncio and trio), and `stream()` on AiohttpTransport.

A loopback server (asyncio, in a thread of this process) sends the body in 1 MiB writes with a
Content-Length. Each candidate runs in its own subprocess: after a 1 MiB warm-up it resets the kernel's
peak-RSS mark (/proc/self/clear_refs), streams the whole body (`aiter_bytes`, counted, never kept), and
reports its peak RSS growth (VmHWM minus VmRSS at the start) and throughput. Prints medians over rounds,
interleaved, and the growth difference against raw httpx (target: within 10 MiB); writes the table to
benchmarks/results-stream.md.

    python -m benchmarks stream                        # 1 GiB x 3 rounds
    PIPEWORK_BENCH_STREAM_MIB=64 PIPEWORK_BENCH_ROUNDS=1 python -m benchmarks stream
    python -m benchmarks.bench_stream --mib 64 --rounds 1
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks import _harness

MIB = 1024 * 1024
CANDIDATES = ("httpx", "aiohttp", "pipework", "pipework-send", "pipework-trio", "pipework-aiohttp")
TARGET_MIB = 10.0


@contextmanager
def body_server(total: int) -> Iterator[str]:
    """Serve `total` bytes for any GET (and 1 MiB for /warmup) on 127.0.0.1; yields the base URL."""
    block = b"\0" * MIB
    ready = threading.Event()
    state: dict[str, object] = {}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                size = MIB if b" /warmup " in head.split(b"\r\n", 1)[0] else total
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n")
                writer.write(f"content-length: {size}\r\n\r\n".encode())
                sent = 0
                while sent < size:
                    part = block if size - sent >= MIB else block[: size - sent]
                    writer.write(part)
                    sent += len(part)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def run() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        state["port"] = server.sockets[0].getsockname()[1]
        state["stop"] = asyncio.Event()
        state["loop"] = asyncio.get_running_loop()
        ready.set()
        stop = state["stop"]
        assert isinstance(stop, asyncio.Event)
        await stop.wait()
        server.close()

    thread = threading.Thread(target=asyncio.run, args=(run(),), daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield f"http://127.0.0.1:{state['port']}"
    finally:
        loop, stop = state["loop"], state["stop"]
        assert isinstance(loop, asyncio.AbstractEventLoop)
        assert isinstance(stop, asyncio.Event)
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)


def _status(field: str) -> int:
    """A VmRSS/VmHWM figure of this process, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak() -> None:
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS (Linux >= 4.0)."""
    Path("/proc/self/clear_refs").write_text("5")


def child(candidate: str, url: str, total: int) -> None:
    """One measurement in this (fresh) process; prints a JSON line."""
    import anyio
    import httpx

    from pipework import AsyncPipelineClient

    async def _download(client: httpx.AsyncClient | AsyncPipelineClient, url: str) -> int:
        received = 0
        if candidate == "pipework-send":
            assert isinstance(client, AsyncPipelineClient)
            response = await client.send(client.build_request("GET", url), stream=True)
            try:
                async for chunk in response.aiter_bytes():
                    received += len(chunk)
            finally:
                await response.aclose()
        else:
            async with client.stream("GET", url) as streamed:
                async for chunk in streamed.aiter_bytes():
                    received += len(chunk)
        return received

    async def with_aiohttp() -> dict[str, float]:
        import aiohttp

        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}/warmup") as warm:
                async for _ in warm.content.iter_chunked(64 * 1024):
                    pass
            _reset_peak()
            start_rss = _status("VmRSS")
            received = 0
            with _harness.stopwatch() as watch:
                async with session.get(f"{url}/body") as response:
                    async for chunk in response.content.iter_chunked(64 * 1024):
                        received += len(chunk)
            peak = _status("VmHWM")
        assert received == total, f"received {received} of {total} bytes"
        return {"growth_mib": (peak - start_rss) / MIB, "mib_s": total / MIB / watch.wall}

    async def main() -> dict[str, float]:
        if candidate == "aiohttp":
            return await with_aiohttp()
        if candidate == "httpx":
            client: httpx.AsyncClient | AsyncPipelineClient = httpx.AsyncClient(timeout=60)
        elif candidate == "pipework-aiohttp":
            from pipework.transports import AiohttpTransport

            client = AsyncPipelineClient(transport=AiohttpTransport())
        else:
            client = AsyncPipelineClient()
        async with client:
            async with client.stream("GET", f"{url}/warmup") as warm:
                async for _ in warm.aiter_bytes():
                    pass
            _reset_peak()
            start_rss = _status("VmRSS")
            received = 0
            with _harness.stopwatch() as watch:
                received = await _download(client, f"{url}/body")
            peak = _status("VmHWM")
        assert received == total, f"received {received} of {total} bytes"
        return {"growth_mib": (peak - start_rss) / MIB, "mib_s": total / MIB / watch.wall}

    backend = "trio" if candidate.endswith("-trio") else "asyncio"
    print(json.dumps(anyio.run(main, backend=backend)))


def measure(candidate: str, url: str, total: int) -> dict[str, float]:
    """Run `child` for `candidate` in a subprocess and parse its result."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_stream", "--child", candidate, url, str(total)],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> None:
    """Measure every candidate, print and write the table."""
    parser = _harness.parser("stream", __doc__, rounds=3)
    parser.add_argument("--mib", type=int, default=int(os.environ.get("PIPEWORK_BENCH_STREAM_MIB", "1024")))
    args = parser.parse_args([] if argv is None else argv)
    total = args.mib * MIB
    results: dict[str, list[dict[str, float]]] = {name: [] for name in CANDIDATES}
    with body_server(total) as url:
        for order in _harness.rotations(CANDIDATES, args.rounds):
            for name in order:
                results[name].append(measure(name, url, total))
    growth = _harness.medians({name: [r["growth_mib"] for r in runs] for name, runs in results.items()})
    speed = _harness.medians({name: [r["mib_s"] for r in runs] for name, runs in results.items()})
    base = growth["httpx"]
    rows = [
        [
            name,
            f"{growth[name]:.2f}",
            f"{growth[name] - base:+.2f}",
            f"{speed[name]:.0f}",
            "baseline"
            if name == "httpx"
            else _harness.verdict(growth[name] - base <= TARGET_MIB, "OVER TARGET"),
        ]
        for name in CANDIDATES
    ]
    _harness.publish(
        "stream",
        f"Streamed download memory ({args.mib} MiB, peak RSS growth per process)",
        _harness.markdown(["candidate", "RSS growth MiB", "vs httpx MiB", "MiB/s", "verdict"], rows),
        f"streamed download of {args.mib} MiB, medians of {args.rounds} interleaved round(s), one process a run",
    )


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main(sys.argv[1:])
