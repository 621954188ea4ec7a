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

On asyncio, the peers join when installed (`pip install 'pipework[bench]'`; see benchmarks/_peers.py), every
body read and checked: `httpx-retries` (its RetryTransport over the mock), `corehttp default` (its default
pipeline on its httpx transport over the mock) and `azure-core default` (its default pipeline over an adapter
to the mock, built as corehttp's httpx transport is).

Rounds are interleaved (the order rotates each round) and the medians compared, so a slow moment of the
machine hits every contender alike. Targets: default chain <= 1.15x httpx, empty Pipeline <= 1.05x, each
no-op policy <= 2 µs. Writes the table to benchmarks/results-overhead.md.

    python -m benchmarks.bench_overhead [--rounds 31] [--requests 600] [--backend asyncio|trio]
    # or PIPEWORK_BENCH_ROUNDS / PIPEWORK_BENCH_REQUESTS
"""

from __future__ import annotations

import httpx
import sniffio

import pipework
from benchmarks import _harness, _peers

TARGETS = {"httpx+Pipeline()": 1.05, "pipework default": 1.15}
NOOP_TARGET_US = 2.0
NOOPS = 5


class Inspector:
    """Sees every request at the mock server; counts those that carried the default chain's headers."""

    def __init__(self) -> None:
        self.with_pipework_headers = 0

    def __call__(self, request: httpx.Request) -> None:
        headers = request.headers
        if (
            "x-ms-client-request-id" in headers
            and headers.get("x-bench") == "1"
            and headers.get("user-agent", "").startswith("bench/1 pipework/")
        ):
            self.with_pipework_headers += 1


async def run(rounds: int, requests: int) -> _harness.Results:
    """Interleaved rounds; returns the µs/request of every round for each contender."""
    inspector = Inspector()
    mock = _harness.mock_transport(inspector)
    raw = httpx.AsyncClient(transport=mock)
    bare = httpx.AsyncClient(transport=pipework.Pipeline(mock, []))
    client = pipework.AsyncPipelineClient(transport=mock, headers={"x-bench": "1"}, application_id="bench/1")
    empty = pipework.AsyncPipelineClient(transport=mock, policies=[])

    async def noop(request: httpx.Request, call_next: pipework.CallNext, /) -> httpx.Response:
        return await call_next(request)

    noops = pipework.AsyncPipelineClient(transport=mock, policies=[noop] * NOOPS)

    async def send_default() -> None:
        response = _harness.check(await client.get(_harness.URL))
        if len(pipework.history(response)) != 1:  # the retry policy recorded exactly one attempt
            raise AssertionError("the retry policy did not record the attempt")

    contenders: dict[str, _harness.Send] = {
        "httpx": _harness.getter(raw),
        "httpx+Pipeline()": _harness.getter(bare),
        "pipework no policy": _harness.getter(empty),
        f"pipework {NOOPS} no-op": _harness.getter(noops),
        "pipework default": send_default,
    }
    closers = [closable.aclose for closable in (raw, bare, client, empty, noops)]
    if sniffio.current_async_library() == "asyncio":  # the peers are asyncio's
        _add_peers(contenders, closers, mock)
    try:
        results = await _harness.interleaved(contenders, rounds, requests)
    finally:
        for close in closers:
            await close()
    seen = inspector.with_pipework_headers - _harness.warmup(requests)
    if seen != rounds * requests:
        raise AssertionError(
            f"only {seen} of {rounds * requests} default-chain requests carried every header"
        )
    return results


PEERS = {
    "httpx-retries": _peers.httpx_retries,
    "corehttp default": _peers.corehttp_in_process,
    "azure-core default": _peers.azure_in_process,
}


def _add_peers(
    contenders: dict[str, _harness.Send], closers: list[_peers.Close], mock: httpx.MockTransport
) -> None:
    for name, build in PEERS.items():
        made = build(mock, _harness.URL)
        if made is None:  # not installed
            continue
        get, close = made

        async def send(get: _peers.Get = get, name: str = name) -> None:
            if await get() != _harness.BODY:
                raise AssertionError(f"{name}: wrong body")

        contenders[name] = send
        closers.append(close)


def report(measured: _harness.Run) -> bool:
    """Print and write the medians side by side with the ratios to raw httpx; True when every target is met."""
    medians = _harness.medians(measured.results)
    met = {name: medians[name] / medians["httpx"] <= target for name, target in TARGETS.items()}
    bare = medians["pipework no policy"]
    chain = medians["pipework default"] - bare
    per_noop = (medians[f"pipework {NOOPS} no-op"] - bare) / NOOPS
    noop_ok = per_noop <= NOOP_TARGET_US
    targets = {name: f"<= {target:.2f}x {_harness.verdict(met[name])}" for name, target in TARGETS.items()}
    _harness.publish(
        "overhead",
        "In-process overhead (httpx.MockTransport, body read and checked)",
        _harness.compare(measured.results, "httpx", "µs/request", targets=targets),
        measured.note,
        [
            f"the default chain's policies cost {chain:.1f} µs/request over the client without policies",
            f"one no-op policy (of {NOOPS}) costs {per_noop:.2f} µs/request "
            f"(target <= {NOOP_TARGET_US:g} µs: {_harness.verdict(noop_ok)})",
            *(
                f"{name} costs {medians[name] / medians['pipework default']:.1f}x pipework's default chain"
                for name in PEERS
                if name in medians
            ),
        ],
    )
    return all(met.values()) and noop_ok


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    report(_harness.in_process("overhead", __doc__, argv, run, rounds=31, requests=600))


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
