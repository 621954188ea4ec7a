"""What the chain costs: AsyncPipelineClient (default chain) against raw httpx.AsyncClient, same MockTransport.

Contenders, each sending GETs with a read and checked body through one shared `httpx.MockTransport`:

- `httpx`: a plain `httpx.AsyncClient` (the baseline);
- `httpx+Pipeline()`: that client over an empty `Pipeline` (the cost of the chain machinery alone);
- `pipework no policy`: `AsyncPipelineClient(policies=[])` (the client without a chain: what the default
  chain's policies cost is the difference to the next line);
- `pipework 5 no-op`: `AsyncPipelineClient(policies=[noop] * 5)`, `noop` an async policy that only awaits
  `call_next` (what one link of the chain costs is a fifth of its difference to `pipework no policy`);
- `pipework default`: `AsyncPipelineClient` with its default chain (request id, headers, user agent, retry,
  custom hooks). The mock handler checks, on every request, the header each of those policies adds, and
  each response's attempt history (the retry policy's record).

Rounds are interleaved (the order rotates each round) and the medians compared, so a slow moment of the
machine hits every contender alike. Targets: default chain <= 1.15x httpx, empty Pipeline <= 1.05x, each
no-op policy <= 2 µs. Writes the table to benchmarks/results-overhead.md.

    python -m benchmarks.bench_overhead [--rounds 31] [--requests 600] [--backend asyncio|trio]
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
from benchmarks import _report

BODY = b'{"id": 42, "name": "pipework", "tags": ["a", "b", "c"]}'
URL = "http://bench.test/items/42"
TARGETS = {"httpx+Pipeline()": 1.05, "pipework default": 1.15}
NOOP_TARGET_US = 2.0
NOOPS = 5

Send = Callable[[], Awaitable[None]]


class Handler:
    """The mock server: answers 200 with BODY; counts the requests that carried the pipeline's headers."""

    def __init__(self) -> None:
        self.requests = 0
        self.with_pipework_headers = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        headers = request.headers
        if (
            "x-ms-client-request-id" in headers
            and headers.get("x-bench") == "1"
            and headers.get("user-agent", "").startswith("bench/1 pipework/")
        ):
            self.with_pipework_headers += 1
        return httpx.Response(200, content=BODY, headers={"content-type": "application/json"})


def _check(response: httpx.Response) -> None:
    if response.status_code != 200 or response.content != BODY:
        raise AssertionError(f"bad response: {response.status_code} {response.content[:60]!r}")


async def _timed(send: Send, count: int) -> float:
    """Microseconds per request over `count` sequential requests."""
    gc.collect()
    started = time.perf_counter()
    for _ in range(count):
        await send()
    return (time.perf_counter() - started) / count * 1e6


async def run(rounds: int, requests: int) -> dict[str, list[float]]:
    """Interleaved rounds; returns the µs/request of every round for each contender."""
    handler = Handler()
    mock = httpx.MockTransport(handler)
    raw = httpx.AsyncClient(transport=mock)
    bare = httpx.AsyncClient(transport=pipework.Pipeline(mock, []))
    client = pipework.AsyncPipelineClient(transport=mock, headers={"x-bench": "1"}, application_id="bench/1")
    empty = pipework.AsyncPipelineClient(transport=mock, policies=[])

    async def noop(request: httpx.Request, call_next: pipework.CallNext, /) -> httpx.Response:
        return await call_next(request)

    noops = pipework.AsyncPipelineClient(transport=mock, policies=[noop] * NOOPS)

    async def send_raw() -> None:
        _check(await raw.get(URL))

    async def send_bare() -> None:
        _check(await bare.get(URL))

    async def send_empty() -> None:
        _check(await empty.get(URL))

    async def send_noops() -> None:
        _check(await noops.get(URL))

    async def send_default() -> None:
        response = await client.get(URL)
        _check(response)
        if len(pipework.history(response)) != 1:  # the retry policy recorded exactly one attempt
            raise AssertionError("the retry policy did not record the attempt")

    contenders: dict[str, Send] = {
        "httpx": send_raw,
        "httpx+Pipeline()": send_bare,
        "pipework no policy": send_empty,
        f"pipework {NOOPS} no-op": send_noops,
        "pipework default": send_default,
    }
    for send in contenders.values():  # warm up every path (imports, pools, caches)
        await _timed(send, max(50, requests // 10))
    before = handler.with_pipework_headers
    results: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for index in range(rounds):
        order = names[index % len(names) :] + names[: index % len(names)]
        for name in order:
            results[name].append(await _timed(contenders[name], requests))
    seen = handler.with_pipework_headers - before
    if seen != rounds * requests:
        raise AssertionError(
            f"only {seen} of {rounds * requests} default-chain requests carried every header"
        )
    await raw.aclose()
    await bare.aclose()
    await client.aclose()
    await empty.aclose()
    await noops.aclose()
    return results


def report(results: dict[str, list[float]], backend: str, rounds: int, requests: int) -> bool:
    """Print the medians side by side with the ratios to raw httpx; True when every target is met."""
    base = statistics.median(results["httpx"])
    print(f"backend={backend} rounds={rounds} requests/round={requests} (medians; MockTransport, body read)")
    print(f"{'contender':<20} {'µs/request':>11} {'requests/s':>11} {'x httpx':>8}  target")
    ok = True
    for name, samples in results.items():
        median = statistics.median(samples)
        ratio = median / base
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            met = ratio <= target
            ok = ok and met
            verdict = f"<= {target:.2f}  {'ok' if met else 'OVER'}"
        print(f"{name:<20} {median:>11.1f} {1e6 / median:>11.0f} {ratio:>8.3f}  {verdict}")
    bare = statistics.median(results["pipework no policy"])
    chain = statistics.median(results["pipework default"]) - bare
    per_noop = (statistics.median(results[f"pipework {NOOPS} no-op"]) - bare) / NOOPS
    noop_ok = per_noop <= NOOP_TARGET_US
    print(f"the default chain's policies cost {chain:.1f} µs/request over the client without policies")
    print(
        f"one no-op policy costs {per_noop:.2f} µs/request (target <= {NOOP_TARGET_US:g}: "
        f"{'ok' if noop_ok else 'OVER'})"
    )
    rows = [
        "| contender | µs/request median (min-max) | vs raw httpx | target |",
        "|---|---|---|---|",
    ]
    for name, samples in results.items():
        median = statistics.median(samples)
        target = TARGETS.get(name)
        rows.append(
            f"| {name} | {median:.1f} ({min(samples):.1f}-{max(samples):.1f}) | {median / base:.2f}x "
            f"| {f'<= {target:.2f}x' if target is not None else ''} |"
        )
    rows.append(f"| one no-op policy (of {NOOPS}) | {per_noop:.2f} | | <= {NOOP_TARGET_US:g} µs |")
    _report.write(
        "overhead",
        "In-process overhead (httpx.MockTransport, body read and checked)",
        "python -m benchmarks overhead",
        "\n".join(rows),
        f"backend {backend}, {rounds} interleaved rounds of {requests} sequential requests",
    )
    return ok and noop_ok


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_overhead")
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    args = parser.parse_args(argv if argv is not None else [])
    results = anyio.run(run, args.rounds, args.requests, backend=args.backend)
    report(results, args.backend, args.rounds, args.requests)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
