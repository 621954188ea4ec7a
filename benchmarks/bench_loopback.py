"""Loopback throughput: pipework's default chain on each transport against raw httpx, raw aiohttp and peers.

A fixed-response server runs in a separate process. Each candidate sends the same GETs at concurrency 1 and
64, in interleaved rounds (the order rotates); every body is read and checked. Prints requests/s medians
(min-max), ratios against raw httpx and raw aiohttp, and the client process's CPU µs per request; writes the
table to benchmarks/results-loopback.md (gitignored).
Candidates that need an optional package (azure-core) are skipped when it is absent.

    python -m benchmarks loopback            # PIPEWORK_BENCH_REQUESTS / PIPEWORK_BENCH_ROUNDS to change the size
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import httpx

from benchmarks import _report
from benchmarks._fastserver import BODY, FastServer
from pipework import AsyncPipelineClient
from pipework.transports import AiohttpTransport

REQUESTS = int(os.environ.get("PIPEWORK_BENCH_REQUESTS", "2000"))
ROUNDS = int(os.environ.get("PIPEWORK_BENCH_ROUNDS", "5"))
LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)

Get = Callable[[], Awaitable[bytes]]


async def _candidates(url: str) -> tuple[dict[str, Get], list[Callable[[], Awaitable[Any]]]]:
    raw_httpx = httpx.AsyncClient(base_url=url, limits=LIMITS)
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))
    pw_httpx = AsyncPipelineClient(url, limits=LIMITS)
    pw_aiohttp = AsyncPipelineClient(url, transport=AiohttpTransport(limits=LIMITS))
    closers: list[Callable[[], Awaitable[Any]]] = [
        raw_httpx.aclose,
        session.close,
        pw_httpx.aclose,
        pw_aiohttp.aclose,
    ]

    async def get_raw_aiohttp() -> bytes:
        async with session.get(url + "/") as response:
            return await response.read()

    async def get_raw_httpx() -> bytes:
        return (await raw_httpx.get("/")).content

    async def get_pw_httpx() -> bytes:
        return (await pw_httpx.get("/")).content

    async def get_pw_aiohttp() -> bytes:
        return (await pw_aiohttp.get("/")).content

    candidates: dict[str, Get] = {
        "raw httpx": get_raw_httpx,
        "raw aiohttp": get_raw_aiohttp,
        "pipework (httpx transport)": get_pw_httpx,
        "pipework (aiohttp transport)": get_pw_aiohttp,
    }
    try:
        from azure.core import AsyncPipelineClient as AzureClient
        from azure.core.pipeline.transport import AioHttpTransport
        from azure.core.rest import HttpRequest
    except ImportError:
        pass
    else:
        azure = AzureClient(url, transport=AioHttpTransport())
        await azure.__aenter__()
        closers.append(azure.close)

        async def get_azure() -> bytes:
            response = await azure.send_request(HttpRequest("GET", url + "/"))
            return await response.read()

        candidates["azure-core pipeline (aiohttp)"] = get_azure
    return candidates, closers


async def _run(get: Get, concurrency: int) -> tuple[float, float]:
    """Requests per second, and the client process's CPU µs per request (steadier than wall time here)."""
    per_worker = REQUESTS // concurrency

    async def worker() -> None:
        for _ in range(per_worker):
            body = await get()
            if body != BODY:
                raise AssertionError(f"unexpected body {body[:40]!r}")

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    count = per_worker * concurrency
    return count / (time.perf_counter() - started), (time.process_time() - cpu) / count * 1e6


Samples = dict[int, dict[str, list[tuple[float, float]]]]


async def _measure(url: str) -> Samples:
    candidates, closers = await _candidates(url)
    results: Samples = {1: {}, 64: {}}
    names = list(candidates)
    try:
        for get in candidates.values():  # warm the pools
            await asyncio.gather(*(get() for _ in range(64)))
        for round_ in range(ROUNDS):
            order = names[round_ % len(names) :] + names[: round_ % len(names)]  # rotate: no fixed slot
            for concurrency in results:
                for name in order:
                    sample = await _run(candidates[name], concurrency)
                    results[concurrency].setdefault(name, []).append(sample)
    finally:
        for close in closers:
            await close()
    return results


def _table(results: Samples) -> str:
    lines = [
        "| candidate | concurrency | requests/s median (min-max) | vs raw httpx | vs raw aiohttp "
        "| client CPU µs/request |",
        "|---|---|---|---|---|---|",
    ]
    for concurrency, by_name in results.items():
        httpx_median = statistics.median(rate for rate, _ in by_name["raw httpx"])
        aiohttp_median = statistics.median(rate for rate, _ in by_name["raw aiohttp"])
        for name, samples in by_name.items():
            rates = [rate for rate, _ in samples]
            median = statistics.median(rates)
            cpu = statistics.median(cpu for _, cpu in samples)
            lines.append(
                f"| {name} | {concurrency} | {median:,.0f} ({min(rates):,.0f}-{max(rates):,.0f}) "
                f"| {median / httpx_median:.2f}x | {median / aiohttp_median:.2f}x | {cpu:.0f} |"
            )
    return "\n".join(lines)


def main() -> None:
    """Run the loopback comparison and print the table."""
    with FastServer() as url:
        results = asyncio.run(_measure(url))
    table = _table(results)
    note = (
        f"{REQUESTS} GETs per run, {ROUNDS} interleaved rounds, fixed-response server in a separate process"
    )
    print(note + "\n")
    print(table)
    _report.write("loopback", "Loopback throughput", "python -m benchmarks loopback", table, note)


if __name__ == "__main__":
    main()
