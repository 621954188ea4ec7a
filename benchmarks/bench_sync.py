"""What the sync facade costs: PipelineClient against raw httpx.Client and requests.Session, loopback server.

Every contender sends GETs (body read and checked) to the same uvicorn server, run in a separate process so
the server does not compete with the client threads for the GIL. Concurrency 1 (one thread) and 8 (eight
threads sharing one client). Rounds are interleaved (the order rotates each round) and medians compared.
Target: PipelineClient >= 0.8x httpx.Client throughput at concurrency 1. Writes benchmarks/results-sync.md.

`PipelineClient+aiohttp` (when the aiohttp extra is installed) runs the same chain over `AiohttpTransport`
on the client's loop. `AsyncPipelineClient in-loop` (concurrency 1 only) is the floor without the thread hop:
the async chain over httpx's async transport, driven from inside its own event loop.

    python -m benchmarks.bench_sync [--rounds 7] [--requests 1000]   # or PIPEWORK_BENCH_ROUNDS / _REQUESTS
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import httpx

import pipework
from benchmarks import _harness

BODY = _harness.BODY
TARGET = 0.8


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The smallest ASGI app: 200 with BODY."""
    if scope["type"] != "http":
        return
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": BODY})


@contextmanager
def server() -> Iterator[str]:
    """uvicorn serving `app` in a child process on a free loopback port; yields the base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = (
        "import uvicorn; uvicorn.run('benchmarks.bench_sync:app', host='127.0.0.1', "
        f"port={port}, log_level='warning', access_log=False, lifespan='off', timeout_keep_alive=60)"
    )
    process = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the benchmark server did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def contenders(url: str) -> dict[str, tuple[Callable[[], None], Callable[[], None]]]:
    """name -> (send one GET and check it, close)."""
    import requests

    plain = httpx.Client(timeout=10)
    session = requests.Session()
    client = pipework.PipelineClient(url)

    def with_httpx() -> None:
        _harness.check(plain.get(url))

    def with_requests() -> None:
        response = session.get(url, timeout=10)
        if response.status_code != 200 or response.content != BODY:
            raise AssertionError(f"bad response: {response.status_code} {response.content[:60]!r}")

    def with_pipework() -> None:
        _harness.check(client.get("/"))

    sides = {
        "httpx.Client": (with_httpx, plain.close),
        "requests.Session": (with_requests, session.close),
        "PipelineClient": (with_pipework, client.close),
    }
    try:
        from pipework.transports._aiohttp import AiohttpTransport
    except ImportError:  # the aiohttp extra is not installed
        return sides
    fast = pipework.PipelineClient(url, transport=AiohttpTransport())

    def with_pipework_aiohttp() -> None:
        _harness.check(fast.get("/"))

    sides["PipelineClient+aiohttp"] = (with_pipework_aiohttp, fast.close)
    return sides


def run(send: Callable[[], None], requests: int, threads: int) -> float:
    """Requests per second for `requests` GETs spread over `threads` threads."""
    each = requests // threads
    barrier = threading.Barrier(threads + 1)

    def worker() -> None:
        barrier.wait()
        for _ in range(each):
            send()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    barrier.wait()
    with _harness.stopwatch() as watch:
        for thread in pool:
            thread.join()
    return each * threads / watch.wall


async def _in_loop(url: str, requests: int) -> float:
    async with pipework.AsyncPipelineClient(url) as client:
        send = _harness.getter(client, "/")
        await _harness.timed(send, 20)
        return 1e6 / await _harness.timed(send, requests)


def main(argv: list[str] | None = None) -> None:
    """Print and write req/s medians and ratios to httpx.Client, per concurrency."""
    parser = _harness.parser("sync", __doc__, rounds=7, requests=1000)
    args = parser.parse_args([] if argv is None else argv)
    rows = []
    lines = []
    with server() as url:
        sides = contenders(url)
        try:
            for send, _ in sides.values():  # warm up: connections, imports, the portal's loop
                for _ in range(50):
                    send()
            for threads in (1, 8):
                rates: _harness.Results = {name: [] for name in sides}
                for order in _harness.rotations(list(sides), args.rounds):
                    for name in order:
                        rates[name].append(run(sides[name][0], args.requests, threads))
                if threads == 1:
                    rates["AsyncPipelineClient in-loop"] = [
                        anyio.run(_in_loop, url, args.requests) for _ in range(args.rounds)
                    ]
                medians = _harness.medians(rates)
                base = medians["httpx.Client"]
                for name, samples in rates.items():
                    rows.append(
                        [
                            name,
                            threads,
                            _harness.spread(samples, 0, grouped=True),
                            _harness.ratio(medians[name], base),
                        ]
                    )
                pipework_ratio = medians["PipelineClient"] / base
                if threads == 1:
                    lines.append(
                        f"PipelineClient at concurrency 1: {pipework_ratio:.2f}x httpx.Client "
                        f"(target >= {TARGET}x: {_harness.verdict(pipework_ratio >= TARGET, 'MISSED')})"
                    )
        finally:
            for _, close in sides.values():
                close()
    _harness.publish(
        "sync",
        "Sync facade (uvicorn loopback server in a separate process)",
        _harness.markdown(["candidate", "threads", "requests/s median (min-max)", "vs httpx.Client"], rows),
        f"{args.rounds} interleaved rounds of {args.requests} GETs; `in-loop` = the async client inside its own loop",
        lines,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
