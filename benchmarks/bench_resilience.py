"""What the retry budget and the circuit breaker cost per request on the happy path (every call succeeds).

Contenders, each a `Pipeline` over one in-process transport answering 200 (no network, so the time is the
chain's CPU), sent with a call context as the client does:

- `retry`: the RetryPolicy alone (the baseline);
- `retry+budget`: the RetryPolicy with a RetryBudget (one deposit per call);
- `retry+breaker`: the RetryPolicy and a CircuitBreakerPolicy per attempt;
- `retry+budget+breaker`: both;
- `client default` / `client standard`: AsyncPipelineClient's default chain against `resilience="standard"`
  (retry + budget + breaker + per-attempt timeout), through the whole client.

Rounds are interleaved (the order rotates each round) and medians of process CPU time compared.
Targets: budget <= 5 µs/request, breaker <= 5 µs/request (the difference to `retry`). The chain figures
move with the machine's load by a few µs, so the pieces are also timed directly (`timeit`, best of 7,
coroutines driven without an event loop): a budget deposit, and a breaker call against a pass-through policy.

    python -m benchmarks.bench_resilience [--rounds 11] [--requests 3000] [--backend asyncio|trio]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
import timeit
from collections.abc import Awaitable, Callable

import anyio
import httpx

import pipework
from pipework.pipeline import CONTEXT_KEY, CallContext

URL = "http://bench.test/items/42"
TARGETS = {"budget": 5.0, "breaker": 5.0}

Send = Callable[[], Awaitable[None]]


class OkTransport(httpx.AsyncBaseTransport):
    """Answers every request with a 200 and a small body."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"ok")


def _via(pipeline: pipework.Pipeline) -> Send:
    async def send() -> None:
        request = httpx.Request("GET", URL)
        request.extensions[CONTEXT_KEY] = CallContext()
        response = await pipeline.handle_async_request(request)
        if response.status_code != 200:
            raise AssertionError(f"bad response {response.status_code}")

    return send


def _via_client(client: pipework.AsyncPipelineClient) -> Send:
    async def send() -> None:
        if (await client.get(URL)).status_code != 200:
            raise AssertionError("bad response")

    return send


async def _timed(send: Send, count: int) -> float:
    """CPU microseconds per request over `count` sequential requests."""
    gc.collect()
    started = time.process_time()
    for _ in range(count):
        await send()
    return (time.process_time() - started) / count * 1e6


async def run(rounds: int, requests: int) -> dict[str, list[float]]:
    """Interleaved rounds; the µs/request of every round for each contender."""
    transport = OkTransport()
    budget = pipework.RetryBudget()
    breaker = pipework.CircuitBreakerPolicy()
    contenders: dict[str, Send] = {
        "retry": _via(pipework.Pipeline(transport, [pipework.RetryPolicy()])),
        "retry+budget": _via(pipework.Pipeline(transport, [pipework.RetryPolicy(budget=budget)])),
        "retry+breaker": _via(pipework.Pipeline(transport, [pipework.RetryPolicy(), breaker])),
        "retry+budget+breaker": _via(
            pipework.Pipeline(transport, [pipework.RetryPolicy(budget=pipework.RetryBudget()), breaker])
        ),
        "client default": _via_client(pipework.AsyncPipelineClient(transport=transport)),
        "client standard": _via_client(
            pipework.AsyncPipelineClient(transport=transport, resilience="standard")
        ),
    }
    for send in contenders.values():  # warm up every path
        await _timed(send, max(50, requests // 10))
    results: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for index in range(rounds):
        order = names[index % len(names) :] + names[: index % len(names)]
        for name in order:
            results[name].append(await _timed(contenders[name], requests))
    return results


def report(results: dict[str, list[float]], backend: str, rounds: int, requests: int) -> bool:
    """Print the medians side by side and the cost of each piece; True when the targets are met."""
    median = {name: statistics.median(samples) for name, samples in results.items()}
    base = median["retry"]
    print(f"backend={backend} rounds={rounds} requests/round={requests} (median CPU µs per request)")
    print(f"{'contender':<22} {'µs/request':>11} {'x retry':>8}")
    for name, value in median.items():
        print(f"{name:<22} {value:>11.2f} {value / base:>8.3f}")
    costs = {
        "budget": median["retry+budget"] - base,
        "breaker": median["retry+breaker"] - base,
        "budget+breaker": median["retry+budget+breaker"] - base,
        "standard preset": median["client standard"] - median["client default"],
    }
    ok = True
    for name, cost in costs.items():
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            met = cost <= target
            ok = ok and met
            verdict = f"target <= {target:g} µs  {'ok' if met else 'OVER'}"
        print(f"cost of {name:<16} {cost:>7.2f} µs/request  {verdict}")
    return ok


def direct(number: int = 100_000) -> dict[str, float]:
    """µs per call of the pieces themselves, with no event loop: best of 7 timeit runs."""
    request = httpx.Request("GET", URL)
    request.extensions[CONTEXT_KEY] = CallContext()
    prepared = httpx.Response(200, request=request)
    budget = pipework.RetryBudget()
    breaker = pipework.CircuitBreakerPolicy()

    async def answer(request: httpx.Request) -> httpx.Response:
        return prepared

    async def passthrough(
        request: httpx.Request, call_next: Callable[..., Awaitable[httpx.Response]]
    ) -> httpx.Response:
        return await call_next(request)

    def drive(policy: Callable[..., Awaitable[httpx.Response]]) -> Callable[[], None]:
        def once() -> None:
            coroutine = policy(request, answer)
            try:
                coroutine.send(None)  # type: ignore[attr-defined]
            except StopIteration:
                return
            raise AssertionError("the policy suspended")

        return once

    def best(statement: Callable[[], object]) -> float:
        return min(timeit.repeat(statement, number=number, repeat=7)) / number * 1e6

    plain = best(drive(passthrough))
    return {
        "budget deposit": best(lambda: budget.deposit(request)),
        "budget withdraw": best(lambda: budget.try_withdraw(request) or budget.reset()),
        "breaker call": best(drive(breaker)) - plain,
    }


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_resilience")
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    args = parser.parse_args(argv if argv is not None else [])
    results = anyio.run(run, args.rounds, args.requests, backend=args.backend)
    report(results, args.backend, args.rounds, args.requests)
    for name, cost in direct().items():
        note = " (over a pass-through policy)" if name.startswith("breaker") else ""
        print(f"direct: {name:<16} {cost:>6.2f} µs/call{note}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
