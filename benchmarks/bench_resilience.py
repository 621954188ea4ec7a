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
Writes the table to benchmarks/results-resilience.md.

    python -m benchmarks.bench_resilience [--rounds 11] [--requests 3000] [--backend asyncio|trio]
    # or PIPEWORK_BENCH_ROUNDS / PIPEWORK_BENCH_REQUESTS
"""

from __future__ import annotations

import timeit
from collections.abc import Awaitable, Callable

import httpx

import pipework
from benchmarks import _harness
from pipework.pipeline import CONTEXT_KEY, CallContext

URL = _harness.URL
TARGETS = {"budget": 5.0, "breaker": 5.0}


class OkTransport(httpx.AsyncBaseTransport):
    """Answers every request with a 200 and a small body."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"ok")


def _via(pipeline: pipework.Pipeline) -> _harness.Send:
    async def send() -> None:
        request = httpx.Request("GET", URL)
        request.extensions[CONTEXT_KEY] = CallContext()
        response = await pipeline.handle_async_request(request)
        if response.status_code != 200:
            raise AssertionError(f"bad response {response.status_code}")

    return send


async def run(rounds: int, requests: int) -> _harness.Results:
    """Interleaved rounds; the CPU µs/request of every round for each contender."""
    transport = OkTransport()
    budget = pipework.RetryBudget()
    breaker = pipework.CircuitBreakerPolicy()
    default = pipework.AsyncPipelineClient(transport=transport)
    standard = pipework.AsyncPipelineClient(transport=transport, resilience="standard")
    contenders: dict[str, _harness.Send] = {
        "retry": _via(pipework.Pipeline(transport, [pipework.RetryPolicy()])),
        "retry+budget": _via(pipework.Pipeline(transport, [pipework.RetryPolicy(budget=budget)])),
        "retry+breaker": _via(pipework.Pipeline(transport, [pipework.RetryPolicy(), breaker])),
        "retry+budget+breaker": _via(
            pipework.Pipeline(transport, [pipework.RetryPolicy(budget=pipework.RetryBudget()), breaker])
        ),
        "client default": _harness.getter(default, URL, b"ok"),
        "client standard": _harness.getter(standard, URL, b"ok"),
    }
    try:
        return await _harness.interleaved(contenders, rounds, requests, cpu=True)
    finally:
        await default.aclose()
        await standard.aclose()


def report(measured: _harness.Run) -> bool:
    """Print and write the medians side by side and the cost of each piece; True when the targets are met."""
    median = _harness.medians(measured.results)
    base = median["retry"]
    costs = {
        "budget": median["retry+budget"] - base,
        "breaker": median["retry+breaker"] - base,
        "budget+breaker": median["retry+budget+breaker"] - base,
        "standard preset": median["client standard"] - median["client default"],
    }
    ok = True
    lines = []
    for name, cost in costs.items():
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            met = cost <= target
            ok = ok and met
            verdict = f" (target <= {target:g} µs: {_harness.verdict(met)})"
        lines.append(f"cost of {name}: {cost:.2f} µs/request{verdict}")
    _harness.publish(
        "resilience",
        "Retry budget and circuit breaker on the happy path (in-process transport, CPU time)",
        _harness.compare(measured.results, "retry", "CPU µs/request", digits=2),
        measured.note,
        lines,
    )
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
    report(_harness.in_process("resilience", __doc__, argv, run, rounds=11, requests=3000))
    for name, cost in direct().items():
        note = " (over a pass-through policy)" if name.startswith("breaker") else ""
        print(f"direct: {name:<16} {cost:>6.2f} µs/call{note}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
