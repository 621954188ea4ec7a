"""The async client on trio: concurrent calls in a nursery, retries sleeping on trio's clock.

python examples/trio_script.py [UPSTREAM_URL]   # without a URL it starts a local flaky upstream
"""

from __future__ import annotations

import sys

import trio
from _flaky import FlakyUpstream

from pipework import AsyncPipelineClient, RetryPolicy, history
from pipework.testing import serve


async def run(upstream: str) -> int:
    """Fetch 5 flaky items concurrently (each retried twice); 0 when all answered 200."""
    results: dict[str, tuple[int, int]] = {}
    retry = RetryPolicy(retry_total=3, retry_backoff_factor=0.05)
    async with AsyncPipelineClient(upstream, retry_policy=retry) as client:

        async def fetch(key: str) -> None:
            response = await client.get(f"/items/{key}")
            results[key] = (response.status_code, len(history(response)))

        async with trio.open_nursery() as nursery:
            for n in range(5):
                nursery.start_soon(fetch, f"trio-{n}")
    for key, (status, attempts) in sorted(results.items()):
        print(f"GET /items/{key} -> {status} after {attempts} attempts")
    return 0 if all(status == 200 for status, _ in results.values()) and len(results) == 5 else 1


def main() -> int:
    """Use the upstream given, or start the local flaky one."""
    if len(sys.argv) > 1:
        return trio.run(run, sys.argv[1])
    with serve(FlakyUpstream()) as url:
        return trio.run(run, url)


if __name__ == "__main__":
    sys.exit(main())
