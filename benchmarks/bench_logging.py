"""What the logging policies cost when logging is off: the default chain with and without them.

Contenders, each sending GETs with a read and checked body through one shared `httpx.MockTransport`:

- `chain without logging`: the default chain with HttpLoggingPolicy and NetworkTraceLoggingPolicy taken out;
- `default, logging WARNING`: the default chain as shipped, `pipework` loggers at WARNING (the policies only
  ask `isEnabledFor` and return) — target: within 5% of the line above;
- `default, logging INFO`: for information, one INFO record per request written to a NullHandler (what
  turning the HTTP log on costs: redaction, allowlists, the record).

Rounds are interleaved (the order rotates each round) and the medians compared.

    python -m benchmarks.bench_logging [--rounds 15] [--requests 2000] [--backend asyncio|trio]
"""

from __future__ import annotations

import argparse
import gc
import logging
import statistics
import time
from collections.abc import Awaitable, Callable

import anyio
import httpx

import pipework

BODY = b'{"id": 42, "name": "pipework"}'
URL = "http://bench.test/items/42?api-version=1&sig=secret"
TARGET = 1.05

Send = Callable[[], Awaitable[None]]


def _handler(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=BODY, headers={"content-type": "application/json"})


async def _timed(send: Send, count: int) -> float:
    """Microseconds per request over `count` sequential requests."""
    gc.collect()
    started = time.perf_counter()
    for _ in range(count):
        await send()
    return (time.perf_counter() - started) / count * 1e6


async def run(rounds: int, requests: int) -> dict[str, list[float]]:
    """Interleaved rounds; returns the µs/request of every round for each contender."""
    mock = httpx.MockTransport(_handler)
    default = pipework.AsyncPipelineClient(transport=mock)
    kept = [
        policy
        for policy in default.pipeline.policies
        if not isinstance(policy, pipework.HttpLoggingPolicy | pipework.NetworkTraceLoggingPolicy)
    ]
    if len(kept) != len(default.pipeline.policies) - 2:
        raise AssertionError(f"the default chain lacks the logging policies: {default.pipeline!r}")
    without = pipework.AsyncPipelineClient(transport=mock, policies=kept)
    logger = logging.getLogger("pipework")
    null = logging.NullHandler()
    logger.addHandler(null)
    logger.propagate = False

    def sender(client: pipework.AsyncPipelineClient) -> Send:
        async def send() -> None:
            response = await client.get(URL)
            if response.status_code != 200 or response.content != BODY:
                raise AssertionError(f"bad response: {response.status_code}")

        return send

    contenders: dict[str, tuple[Send, int]] = {
        "chain without logging": (sender(without), logging.WARNING),
        "default, logging WARNING": (sender(default), logging.WARNING),
        "default, logging INFO": (sender(default), logging.INFO),
    }
    try:
        for contender, level in contenders.values():
            logger.setLevel(level)  # once per round: setLevel clears every logger's level cache
            await _timed(contender, max(50, requests // 10))
        results: dict[str, list[float]] = {name: [] for name in contenders}
        names = list(contenders)
        for index in range(rounds):
            for name in names[index % len(names) :] + names[: index % len(names)]:
                contender, level = contenders[name]
                logger.setLevel(level)
                results[name].append(await _timed(contender, requests))
    finally:
        logger.removeHandler(null)
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
        await default.aclose()
        await without.aclose()
    return results


def report(results: dict[str, list[float]], backend: str, rounds: int, requests: int) -> bool:
    """Print medians and ratios to the chain without logging; True when the WARNING line meets the target."""
    base = statistics.median(results["chain without logging"])
    print(f"backend={backend} rounds={rounds} requests/round={requests} (medians; MockTransport, body read)")
    print(f"{'contender':<26} {'µs/request':>11} {'x no-logging':>13}")
    for name, samples in results.items():
        median = statistics.median(samples)
        print(f"{name:<26} {median:>11.1f} {median / base:>13.3f}")
    ratio = statistics.median(results["default, logging WARNING"]) / base
    met = ratio <= TARGET
    print(f"logging off costs x{ratio:.3f} (target <= {TARGET:.2f}): {'ok' if met else 'OVER'}")
    return met


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_logging")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    args = parser.parse_args(argv if argv is not None else [])
    results = anyio.run(run, args.rounds, args.requests, backend=args.backend)
    report(results, args.backend, args.rounds, args.requests)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
