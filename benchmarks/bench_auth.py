"""What bearer authentication costs per request once the token is cached.

Contenders, each sending GETs (body read and checked) through one shared `httpx.MockTransport`, which
checks the Authorization header when one is expected:

- `pipework no auth`: `AsyncPipelineClient` with its default chain (the baseline);
- `pipework bearer`: the same with `credential=StaticTokenCredential(...)` (BearerTokenPolicy, cached token);
- `pipework key`: the same with `credential=KeyCredential(...)` (KeyCredentialPolicy, a SansIO header set).

Rounds are interleaved (the order rotates each round) and the medians compared. Target: bearer <= 1.05x.
Writes the table to benchmarks/results-auth.md.

    python -m benchmarks.bench_auth [--rounds 21] [--requests 500] [--backend asyncio|trio]
    # or PIPEWORK_BENCH_ROUNDS / PIPEWORK_BENCH_REQUESTS
"""

from __future__ import annotations

import httpx

import pipework
from benchmarks import _harness

URL = "https://bench.test/items/42"
TOKEN = "bench-token"
BASE = "pipework no auth"
TARGET = 1.05


def _authorized(request: httpx.Request) -> None:
    if request.headers.get("authorization") not in (None, f"Bearer {TOKEN}", TOKEN):
        raise AssertionError("wrong Authorization header")


async def run(rounds: int, requests: int) -> _harness.Results:
    """Interleaved rounds; the µs/request of every round for each contender."""
    mock = _harness.mock_transport(_authorized)
    clients = {
        BASE: pipework.AsyncPipelineClient(transport=mock),
        "pipework bearer": pipework.AsyncPipelineClient(
            transport=mock, credential=pipework.StaticTokenCredential(TOKEN), scopes=["s/.default"]
        ),
        "pipework key": pipework.AsyncPipelineClient(
            transport=mock, credential=pipework.KeyCredential(TOKEN)
        ),
    }
    try:
        sends = {name: _harness.getter(client, URL) for name, client in clients.items()}
        return await _harness.interleaved(sends, rounds, requests)  # the warm-up fetches the token once
    finally:
        for client in clients.values():
            await client.aclose()


def report(measured: _harness.Run) -> bool:
    """Print and write the medians and the ratios to the baseline; True when bearer meets the target."""
    medians = _harness.medians(measured.results)
    bearer = medians["pipework bearer"] / medians[BASE]
    _harness.publish(
        "auth",
        "Authentication per request, token cached (httpx.MockTransport, body read and checked)",
        _harness.compare(
            measured.results,
            BASE,
            "µs/request",
            targets={"pipework bearer": f"<= {TARGET:.2f}x {_harness.verdict(bearer <= TARGET)}"},
        ),
        measured.note,
        [f"bearer costs x{bearer:.3f} (target <= {TARGET:.2f}): {_harness.verdict(bearer <= TARGET)}"],
    )
    return bearer <= TARGET


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    report(_harness.in_process("auth", __doc__, argv, run, rounds=21, requests=500))


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
