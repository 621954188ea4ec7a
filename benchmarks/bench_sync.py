"""What the sync facade costs: PipelineClient against raw httpx.Client and requests.Session, loopback server.

Every contender sends GETs (body read and checked) to the same uvicorn server, run in a separate process so
the server does not compete with the client threads for the GIL. Concurrency 1 (one thread) and 8 (eight
threads sharing one client). Rounds are interleaved (the order rotates each round) and medians compared.
Target: PipelineClient >= 0.8x httpx.Client throughput at concurrency 1.

`PipelineClient+aiohttp` (when the aiohttp extra is installed) runs the same chain over `AiohttpTransport`
on the client's loop. `AsyncPipelineClient in-loop` (concurrency 1 only) is the floor without the thread hop:
the async chain over httpx's async transport, driven from inside its own event loop.

    python -m benchmarks.bench_sync [--rounds 7] [--requests 1000]
"""

from __future__ import annotations

import argparse
import socket
import statistics
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
from benchmarks import _report

BODY = b'{"id": 42, "name": "pipework", "tags": ["a", "b", "c"]}'
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


def _check(status: int, body: bytes) -> None:
    if status != 200 or body != BODY:
        raise AssertionError(f"bad response: {status} {body[:60]!r}")


def contenders(url: str) -> dict[str, tuple[Callable[[], None], Callable[[], None]]]:
    """name -> (send one GET and check it, close)."""
    import requests

    plain = httpx.Client(timeout=10)
    session = requests.Session()
    client = pipework.PipelineClient(url)

    def with_httpx() -> None:
        response = plain.get(url)
        _check(response.status_code, response.content)

    def with_requests() -> None:
        response = session.get(url, timeout=10)
        _check(response.status_code, response.content)

    def with_pipework() -> None:
        response = client.get("/")
        _check(response.status_code, response.content)

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
        response = fast.get("/")
        _check(response.status_code, response.content)

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
    started = time.perf_counter()
    for thread in pool:
        thread.join()
    return each * threads / (time.perf_counter() - started)


async def _in_loop(url: str, requests: int) -> float:
    async with pipework.AsyncPipelineClient(url) as client:
        for _ in range(20):
            await client.get("/")
        started = time.perf_counter()
        for _ in range(requests):
            response = await client.get("/")
            _check(response.status_code, response.content)
        return requests / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> None:
    """Print req/s medians and ratios to httpx.Client, per concurrency."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args(argv if argv is not None else [])
    rows = ["| candidate | threads | requests/s median | vs httpx.Client |", "|---|---|---|---|"]
    with server() as url:
        sides = contenders(url)
        try:
            for send, _ in sides.values():  # warm up: connections, imports, the portal's loop
                for _ in range(50):
                    send()
            for threads in (1, 8):
                rates: dict[str, list[float]] = {name: [] for name in sides}
                names = list(sides)
                for round_ in range(args.rounds):
                    shift = round_ % len(names)
                    for name in names[shift:] + names[:shift]:
                        rates[name].append(run(sides[name][0], args.requests, threads))
                if threads == 1:
                    rates["AsyncPipelineClient in-loop"] = [
                        anyio.run(_in_loop, url, args.requests) for _ in range(args.rounds)
                    ]
                base = statistics.median(rates["httpx.Client"])
                print(f"concurrency {threads}: median of {args.rounds} rounds x {args.requests} GETs")
                for name in rates:
                    rate = statistics.median(rates[name])
                    note = ""
                    if name == "PipelineClient" and threads == 1:
                        note = f"  (target >= {TARGET}x: {'met' if rate / base >= TARGET else 'MISSED'})"
                    print(f"  {name:28} {rate:8.0f} req/s  {rate / base:5.2f}x httpx.Client{note}")
                    rows.append(f"| {name} | {threads} | {rate:,.0f} | {rate / base:.2f}x |")
        finally:
            for _, close in sides.values():
                close()
    _report.write(
        "sync",
        "Sync facade (uvicorn loopback server in a separate process)",
        "python -m benchmarks sync",
        "\n".join(rows),
        f"{args.rounds} interleaved rounds of {args.requests} GETs; `in-loop` = the async client inside its own loop",
    )


if __name__ == "__main__":
    main(sys.argv[1:])
