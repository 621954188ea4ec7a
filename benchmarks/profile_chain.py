"""Profile the per-request path of the default chain against the loopback server (not run by `python -m benchmarks`).

Sends GETs through `AsyncPipelineClient` (default chain) on the chosen transport, at concurrency 1, under
pyinstrument (`pip install 'pipework[bench]'`) or, with `--cprofile` or without pyinstrument, cProfile
(CPU time, sorted by own time). Also prints the CPU µs per request of raw aiohttp/httpx and of pipework
measured side by side without the profiler, so the profile can be read against the real gap.

    python -m benchmarks.profile_chain [--transport aiohttp|httpx] [--requests 3000] [--cprofile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import time
from collections.abc import Awaitable, Callable

import aiohttp
import httpx

from benchmarks import _harness
from benchmarks._fastserver import BODY, FastServer
from pipework import AsyncPipelineClient
from pipework.transports import AiohttpTransport

Get = Callable[[], Awaitable[bytes]]


async def _cpu_per_request(get: Get, count: int, *, collect: bool = True) -> float:
    async def checked() -> None:
        if await get() != BODY:
            raise AssertionError("unexpected body")

    return await _harness.timed(checked, count, cpu=True, collect=collect)


async def _profile(url: str, transport: str, count: int, use_cprofile: bool) -> None:
    if transport == "aiohttp":
        client = AsyncPipelineClient(url, transport=AiohttpTransport())
        session = aiohttp.ClientSession()

        async def raw() -> bytes:
            async with session.get(url + "/") as response:
                return await response.read()

        close: Callable[[], Awaitable[object]] = session.close
    else:
        client = AsyncPipelineClient(url)
        plain = httpx.AsyncClient(base_url=url)

        async def raw() -> bytes:
            return (await plain.get("/")).content

        close = plain.aclose

    async def ours() -> bytes:
        return (await client.get("/")).content

    for get in (raw, ours):  # warm up pools and caches
        await _cpu_per_request(get, 200)
    raw_cpu = min([await _cpu_per_request(raw, count // 5) for _ in range(3)])
    our_cpu = min([await _cpu_per_request(ours, count // 5) for _ in range(3)])
    print(f"CPU per request (best of 3): raw {transport} {raw_cpu:.1f} µs, pipework {our_cpu:.1f} µs")
    try:
        from pyinstrument import Profiler
    except ImportError:
        use_cprofile = True
    if use_cprofile:
        profile = cProfile.Profile(time.process_time)
        profile.enable()
        await _cpu_per_request(ours, count, collect=False)
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(40)
    else:
        profiler = Profiler(interval=0.0002, async_mode="disabled")
        profiler.start()
        await _cpu_per_request(ours, count, collect=False)
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    await client.aclose()
    await close()


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments, start the server, profile."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_chain")
    parser.add_argument("--transport", choices=("aiohttp", "httpx"), default="aiohttp")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--cprofile", action="store_true")
    args = parser.parse_args(argv if argv is not None else [])
    with FastServer() as url:
        asyncio.run(_profile(url, args.transport, args.requests, args.cprofile))


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
