"""Loopback throughput: pipework's default chain on each transport against raw httpx, raw aiohttp and peers.

A fixed-response server runs in a separate process. Each candidate sends the same GETs at concurrency 1 and
64, in interleaved rounds (the order rotates); every body is read and checked. Prints requests/s medians
(min-max), ratios against raw httpx and raw aiohttp, and the client process's CPU µs per request; writes the
table to benchmarks/results-loopback.md (gitignored).
`raw httpx, pipework's transport` is a plain `httpx.AsyncClient` over `create_transport()` (the default transport,
with its pool: see pipework/transports/_pool.py) and no chain: the pool's share of the difference, side by side.
Peers (benchmarks/_peers.py) join when their package is installed (`pip install 'pipework[bench]'`):
azure-core's and corehttp's default pipelines on their aiohttp transports, pipework's chain on httpx-aiohttp's
transport, and httpx-retries' RetryTransport under an `httpx.AsyncClient`.

    python -m benchmarks loopback            # PIPEWORK_BENCH_REQUESTS / PIPEWORK_BENCH_ROUNDS to change the size
    python -m benchmarks.bench_loopback [--rounds 5] [--requests 2000]
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import httpx

from benchmarks import _harness, _peers
from benchmarks._fastserver import BODY, FastServer
from pipework import AsyncPipelineClient
from pipework.transports import AiohttpTransport, create_transport

LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)

Get = Callable[[], Awaitable[bytes]]


async def _candidates(url: str) -> tuple[dict[str, Get], list[Callable[[], Awaitable[Any]]]]:
    raw_httpx = httpx.AsyncClient(base_url=url, limits=LIMITS)
    pooled_httpx = httpx.AsyncClient(base_url=url, transport=create_transport(limits=LIMITS))
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))
    pw_httpx = AsyncPipelineClient(url, limits=LIMITS)
    pw_aiohttp = AsyncPipelineClient(url, transport=AiohttpTransport(limits=LIMITS))
    closers: list[Callable[[], Awaitable[Any]]] = [
        raw_httpx.aclose,
        pooled_httpx.aclose,
        session.close,
        pw_httpx.aclose,
        pw_aiohttp.aclose,
    ]

    async def get_raw_aiohttp() -> bytes:
        async with session.get(url + "/") as response:
            return await response.read()

    async def get_raw_httpx() -> bytes:
        return (await raw_httpx.get("/")).content

    async def get_pooled_httpx() -> bytes:
        return (await pooled_httpx.get("/")).content

    async def get_pw_httpx() -> bytes:
        return (await pw_httpx.get("/")).content

    async def get_pw_aiohttp() -> bytes:
        return (await pw_aiohttp.get("/")).content

    candidates: dict[str, Get] = {
        "raw httpx": get_raw_httpx,
        "raw httpx, pipework's transport": get_pooled_httpx,
        "raw aiohttp": get_raw_aiohttp,
        "pipework (httpx transport)": get_pw_httpx,
        "pipework (aiohttp transport)": get_pw_aiohttp,
    }
    peers = {
        "azure-core pipeline (aiohttp)": lambda: _peers.azure_loopback(url),
        "corehttp pipeline (aiohttp)": lambda: _peers.corehttp_loopback(url),
        "pipework (httpx-aiohttp transport)": lambda: _peers.pipework_on_httpx_aiohttp(url, LIMITS),
        "httpx-retries (httpx)": lambda: _peers.httpx_retries(
            httpx.AsyncHTTPTransport(limits=LIMITS), url + "/", LIMITS
        ),
    }
    for name, build in peers.items():
        made = build()
        if made is not None:  # installed
            candidates[name], close = made
            closers.append(close)
    return candidates, closers


async def _run(get: Get, concurrency: int, requests: int) -> tuple[float, float]:
    """Requests per second, and the client process's CPU µs per request (steadier than wall time here)."""
    per_worker = requests // concurrency

    async def worker() -> None:
        for _ in range(per_worker):
            body = await get()
            if body != BODY:
                raise AssertionError(f"unexpected body {body[:40]!r}")

    with _harness.stopwatch() as watch:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    count = per_worker * concurrency
    return count / watch.wall, watch.cpu / count * 1e6


Samples = dict[int, dict[str, list[tuple[float, float]]]]


async def _measure(url: str, rounds: int, requests: int) -> Samples:
    candidates, closers = await _candidates(url)
    results: Samples = {1: {}, 64: {}}
    try:
        for get in candidates.values():  # warm the pools
            await asyncio.gather(*(get() for _ in range(64)))
        for order in _harness.rotations(list(candidates), rounds):
            for concurrency in results:
                for name in order:
                    sample = await _run(candidates[name], concurrency, requests)
                    results[concurrency].setdefault(name, []).append(sample)
    finally:
        for close in closers:
            await close()
    return results


def _table(results: Samples) -> str:
    rows = []
    for concurrency, by_name in results.items():
        rates = {name: [rate for rate, _ in samples] for name, samples in by_name.items()}
        medians = _harness.medians(rates)
        for name, samples in by_name.items():
            rows.append(
                [
                    name,
                    concurrency,
                    _harness.spread(rates[name], 0, grouped=True),
                    _harness.ratio(medians[name], medians["raw httpx"]),
                    _harness.ratio(medians[name], medians["raw aiohttp"]),
                    f"{statistics.median(cpu for _, cpu in samples):.0f}",
                ]
            )
    header = ["candidate", "concurrency", "requests/s median (min-max)", "vs raw httpx", "vs raw aiohttp"]
    return _harness.markdown([*header, "client CPU µs/request"], rows)


# The targets: (candidate, concurrency, reference, at least this ratio of the reference's requests/s).
TARGETS = (
    ("pipework (aiohttp transport)", 1, "raw aiohttp", 0.8),
    ("pipework (aiohttp transport)", 64, "raw aiohttp", 0.8),
    ("pipework (aiohttp transport)", 64, "azure-core pipeline (aiohttp)", 4.0),
    ("pipework (httpx transport)", 1, "raw httpx", 0.95),
    ("pipework (httpx transport)", 64, "raw httpx", 0.95),
)


def _verdicts(results: Samples) -> list[str]:
    lines = []
    for name, concurrency, reference, target in TARGETS:
        by_name = {key: [rate for rate, _ in samples] for key, samples in results[concurrency].items()}
        if reference not in by_name:  # an optional peer that is not installed
            continue
        medians = _harness.medians(by_name)
        ratio = medians[name] / medians[reference]
        met = _harness.verdict(ratio >= target, "MISSED")
        lines.append(
            f"{name} at concurrency {concurrency}: {ratio:.2f}x {reference} (target >= {target}x: {met})"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    """Run the loopback comparison, print and write the table."""
    args = _harness.parser("loopback", __doc__, rounds=5, requests=2000).parse_args(
        [] if argv is None else argv
    )
    with FastServer() as url:
        results = asyncio.run(_measure(url, args.rounds, args.requests))
    _harness.publish(
        "loopback",
        "Loopback throughput",
        _table(results),
        f"{args.requests} GETs per run, {args.rounds} interleaved rounds, fixed-response server in a separate process",
        _verdicts(results),
    )


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
