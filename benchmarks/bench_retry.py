"""What one retry costs: the CPU time of one retried attempt beyond the attempt itself, pipework vs its peers.

Each contender sends GETs to a fake transport, in zero-wait mode (no real sleeping):

- `pipework`: `AsyncPipelineClient(policies=[RetryPolicy()])` over a `ScriptedTransport`, inside
  `pipework.testing.zero_wait()` (the 0.8 s backoff is decided, jittered, logged-if-enabled and recorded,
  not slept);
- `azure-core` (if installed, `pip install 'pipework[bench]'`): `AsyncPipeline(fake, [AsyncRetryPolicy()])`
  over an `AsyncHttpTransport` that builds a minimal response; its first retry sleeps 0 s (azure-core's own
  rule), so it never even reaches the transport's sleep;
- `httpx-retries` (if installed): `httpx.AsyncClient(transport=RetryTransport(fake, retry=Retry(backoff_factor=0)))`
  over an httpx transport that builds the response; a zero backoff still yields once, as zero-wait does.

For each: `ok` = a call answered 200 at once; `retried` = 503 then 200 (one retry); `attempt` = the fake
transport alone, one request (for pipework: the Pipeline edge with an empty chain, which reads the body).
The cost of one retry beyond the attempt itself is `retried - ok - attempt`. Rounds are interleaved and
medians compared. Target: a retried attempt (`retried - ok`, i.e. the second attempt with everything the
retry policy does around it) costs at most 2x the first attempt (`ok`, the whole call). Writes the table to
benchmarks/results-retry.md.

    python -m benchmarks.bench_retry [--rounds 15] [--requests 2000]   # or PIPEWORK_BENCH_ROUNDS / _REQUESTS
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

import pipework
from benchmarks import _harness
from pipework.pipeline import CONTEXT_KEY, CallContext
from pipework.testing import ScriptedTransport, zero_wait

URL = _harness.URL
RETRY_TARGET = 2.0
Send = _harness.Send


def _toggling(first: int) -> Callable[[httpx.Request], int]:
    """A script step answering `first`, then 200, then `first`, ... (one call = one pair when first=503)."""
    state = [False]

    def step(_: httpx.Request) -> int:
        state[0] = not state[0]
        return first if state[0] else 200

    return step


def _pipework_contenders() -> dict[str, tuple[Send, ScriptedTransport]]:
    contenders: dict[str, tuple[Send, ScriptedTransport]] = {}
    for name, first in (("ok", 200), ("retried", 503)):
        transport = ScriptedTransport(_toggling(first), repeat_last=True)
        client = pipework.AsyncPipelineClient(transport=transport, policies=[pipework.RetryPolicy()])

        async def send(client: pipework.AsyncPipelineClient = client) -> None:
            response = await client.get(URL)
            if response.status_code != 200:
                raise AssertionError(response.status_code)

        contenders[f"pipework {name}"] = (send, transport)
    transport = ScriptedTransport(200, repeat_last=True)
    edge = pipework.Pipeline(transport, [])
    request = httpx.Request("GET", URL, extensions={CONTEXT_KEY: CallContext()})

    async def attempt() -> None:
        await edge.handle_async_request(request)

    contenders["pipework attempt"] = (attempt, transport)
    return contenders


def _azure_contenders() -> dict[str, Send]:
    try:
        from azure.core.pipeline import AsyncPipeline
        from azure.core.pipeline.policies import AsyncRetryPolicy
        from azure.core.pipeline.transport import AsyncHttpResponse, AsyncHttpTransport
        from azure.core.rest import HttpRequest
    except ImportError:
        return {}

    class FakeResponse(AsyncHttpResponse):  # type: ignore[misc]
        def __init__(self, request: Any, status: int) -> None:
            super().__init__(request, None)
            self.status_code = status
            self.reason = "OK" if status == 200 else "Service Unavailable"
            self.headers = {"content-type": "text/plain"}

        def body(self) -> bytes:
            return b""

    class FakeTransport(AsyncHttpTransport):  # type: ignore[misc]
        def __init__(self, first: int) -> None:
            self.first = first
            self.odd = False

        async def send(self, request: Any, **kwargs: Any) -> Any:
            self.odd = not self.odd
            return FakeResponse(request, self.first if self.odd else 200)

        async def open(self) -> None:
            pass

        async def close(self) -> None:
            pass

        async def __aexit__(self, *args: Any) -> None:
            pass

        async def sleep(self, duration: float) -> None:  # zero-wait, as pipework's VirtualClock
            await asyncio.sleep(0)

    contenders: dict[str, Send] = {}
    for name, first in (("ok", 200), ("retried", 503)):
        pipeline = AsyncPipeline(FakeTransport(first), policies=[AsyncRetryPolicy()])

        async def send(pipeline: Any = pipeline) -> None:
            response = await pipeline.run(HttpRequest("GET", URL))
            if response.http_response.status_code != 200:
                raise AssertionError(response.http_response.status_code)

        contenders[f"azure-core {name}"] = send
    transport = FakeTransport(200)
    request = HttpRequest("GET", URL)

    async def attempt() -> None:
        await transport.send(request)

    contenders["azure-core attempt"] = attempt
    return contenders


def _httpx_retries_contenders() -> dict[str, Send]:
    try:
        from httpx_retries import Retry, RetryTransport
    except ImportError:
        return {}

    class Fake(httpx.AsyncBaseTransport):
        def __init__(self, first: int) -> None:
            self.step = _toggling(first)

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            return httpx.Response(self.step(request), content=b"", headers={"content-type": "text/plain"})

    contenders: dict[str, Send] = {}
    for name, first in (("ok", 200), ("retried", 503)):
        client = httpx.AsyncClient(
            transport=RetryTransport(transport=Fake(first), retry=Retry(backoff_factor=0))
        )

        async def send(client: httpx.AsyncClient = client) -> None:
            response = await client.get(URL)
            if response.status_code != 200:
                raise AssertionError(response.status_code)

        contenders[f"httpx-retries {name}"] = send
    fake = Fake(200)
    request = httpx.Request("GET", URL)

    async def attempt() -> None:
        await (await fake.handle_async_request(request)).aread()

    contenders["httpx-retries attempt"] = attempt
    return contenders


async def run(rounds: int, requests: int) -> dict[str, float]:
    """Interleaved rounds; the median µs per call of each contender."""
    ours = _pipework_contenders()
    sends: dict[str, Send] = {name: send for name, (send, _) in ours.items()}
    sends.update(_azure_contenders())
    sends.update(_httpx_retries_contenders())
    with zero_wait() as clock:

        def forget(
            name: str,
        ) -> None:  # the records of the last run: the sleeps, the requests and bodies seen
            clock.sleeps.clear()
            for _, transport in ours.values():
                transport.requests.clear()
                transport.bodies.clear()

        samples = await _harness.interleaved(sends, rounds, requests, before=forget)
    return _harness.medians(samples)


def report(medians: dict[str, float]) -> None:
    """Print the per-call medians and the cost of one retry, side by side."""
    costs = {}
    lines = []
    for lib in ("pipework", "azure-core", "httpx-retries"):
        if f"{lib} retried" in medians:
            extra = medians[f"{lib} retried"] - medians[f"{lib} ok"]
            costs[lib] = extra - medians[f"{lib} attempt"]
            lines.append(
                f"{lib}: one retry adds {extra:.1f} µs, of which the attempt itself {medians[f'{lib} attempt']:.1f}"
                f" -> retry machinery {costs[lib]:.1f} µs"
            )
    rows = [[name, f"{value:.1f}"] for name, value in medians.items()]
    retried = medians["pipework retried"] - medians["pipework ok"]
    ratio = retried / medians["pipework ok"]
    verdict = _harness.verdict(ratio <= RETRY_TARGET)
    lines.append(
        f"pipework: a retried attempt costs {retried:.1f} µs = {ratio:.2f}x the first attempt "
        f"(target <= {RETRY_TARGET:g}x: {verdict})"
    )
    rows.append(["pipework: retried attempt / first attempt", f"{ratio:.2f}x (target <= {RETRY_TARGET:g}x)"])
    for peer in ("azure-core", "httpx-retries"):
        if peer in costs:
            lines.append(f"ratio pipework / {peer} (retry machinery): {costs['pipework'] / costs[peer]:.2f}x")
        else:
            lines.append(f"{peer} not installed (pip install 'pipework[bench]'): no side-by-side figure")
    _harness.publish(
        "retry",
        "The retry path (503 then 200, zero-wait, fake transport)",
        _harness.markdown(["contender", "µs/call median"], rows),
        lines=lines,
    )


def main(argv: list[str] | None = None) -> None:
    """Run on asyncio (azure-core's async pipeline is asyncio-only) and print the figures."""
    args = _harness.parser("retry", __doc__, rounds=15, requests=2000).parse_args(
        [] if argv is None else argv
    )
    report(asyncio.run(run(args.rounds, args.requests)))


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
