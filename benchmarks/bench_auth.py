"""What bearer authentication costs per request once the token is cached.

Contenders, each sending GETs through one shared `httpx.MockTransport` (which checks the Authorization
header when one is expected):

- `pipework no auth`: `AsyncPipelineClient` with its default chain (the baseline);
- `pipework bearer`: the same with `credential=StaticTokenCredential(...)` (BearerTokenPolicy, cached token);
- `pipework key`: the same with `credential=KeyCredential(...)` (KeyCredentialPolicy, a SansIO header set).

Rounds are interleaved (the order rotates each round) and the medians compared. Target: bearer <= 1.05x.

    python -m benchmarks.bench_auth [--rounds 21] [--requests 500] [--backend asyncio|trio]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Awaitable, Callable

import anyio
import httpx

import pipework

URL = "https://bench.test/items/42"
TOKEN = "bench-token"
Send = Callable[[], Awaitable[None]]


def _handler(request: httpx.Request) -> httpx.Response:
    auth = request.headers.get("authorization")
    if auth not in (None, f"Bearer {TOKEN}", TOKEN):
        raise AssertionError("wrong Authorization header")
    return httpx.Response(200, content=b"{}")


async def _timed(send: Send, count: int) -> float:
    gc.collect()
    started = time.perf_counter()
    for _ in range(count):
        await send()
    return (time.perf_counter() - started) / count * 1e6


async def run(rounds: int, requests: int) -> dict[str, list[float]]:
    """Interleaved rounds; the µs/request of every round for each contender."""
    mock = httpx.MockTransport(_handler)
    clients = {
        "pipework no auth": pipework.AsyncPipelineClient(transport=mock),
        "pipework bearer": pipework.AsyncPipelineClient(
            transport=mock, credential=pipework.StaticTokenCredential(TOKEN), scopes=["s/.default"]
        ),
        "pipework key": pipework.AsyncPipelineClient(
            transport=mock, credential=pipework.KeyCredential(TOKEN)
        ),
    }
    sends: dict[str, Send] = {}
    for name, client in clients.items():

        async def send(client: pipework.AsyncPipelineClient = client) -> None:
            if (await client.get(URL)).status_code != 200:
                raise AssertionError("bad status")

        sends[name] = send
        await send()  # warm up (and fetch the token once)
    results: dict[str, list[float]] = {name: [] for name in sends}
    names = list(sends)
    for index in range(rounds):
        for name in names[index % len(names) :] + names[: index % len(names)]:
            results[name].append(await _timed(sends[name], requests))
    return results


def main(argv: list[str] | None = None) -> None:
    """Print the medians and the ratios to the baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--backend", default="asyncio", choices=["asyncio", "trio"])
    args = parser.parse_args(argv)
    results = anyio.run(run, args.rounds, args.requests, backend=args.backend)
    base = statistics.median(results["pipework no auth"])
    for name, values in results.items():
        median = statistics.median(values)
        print(f"{name:18} {median:8.1f} µs/request  {median / base:5.3f}x")


if __name__ == "__main__":
    main()
