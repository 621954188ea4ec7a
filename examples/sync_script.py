"""A synchronous script with the pipeline's retries: PipelineClient, threads, streaming.

python examples/sync_script.py [UPSTREAM_URL]   # without a URL it starts a local flaky upstream
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

from _flaky import FlakyUpstream

from pipework import PipelineClient, RetryPolicy, history, raise_for_status
from pipework.testing import serve


def run(upstream: str) -> int:
    """Fetch a flaky item (retried), fetch 8 in parallel threads, stream lines; 0 when all went well."""
    retry = RetryPolicy(retry_total=3, retry_backoff_factor=0.05)
    with PipelineClient(upstream, retry_policy=retry) as client:
        response = raise_for_status(client.get("/items/sync-1"))
        print(f"GET /items/sync-1 -> {response.status_code} after {len(history(response))} attempts")

        with ThreadPoolExecutor(8) as pool:  # one client, many threads
            statuses = list(pool.map(lambda n: client.get(f"/items/sync-t{n}").status_code, range(8)))
        print(f"8 threads -> {statuses}")

        with client.stream("GET", "/lines") as streamed:
            lines = sum(1 for _ in streamed.iter_lines())
        print(f"streamed {lines} lines")
    return 0 if statuses == [200] * 8 and lines == 100 else 1


def main() -> int:
    """Use the upstream given, or start the local flaky one."""
    if len(sys.argv) > 1:
        return run(sys.argv[1])
    with serve(FlakyUpstream()) as url:
        return run(url)


if __name__ == "__main__":
    sys.exit(main())
