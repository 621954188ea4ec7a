"""One RetryPolicy (one tenacity Retrying) shared by concurrent calls, tasks and threads keeps them apart."""

from __future__ import annotations

import threading

import anyio
import httpx
import pytest

from pipework import AsyncPipelineClient, RetryPolicy, history
from pipework.testing import ScriptedTransport, VirtualClock, zero_wait

pytestmark = pytest.mark.anyio


def _per_path(script: dict[str, list[int]]) -> ScriptedTransport:
    """Answers each path from its own list of statuses, in order."""
    seen: dict[str, int] = {}

    def step(request: httpx.Request) -> int:
        path = request.url.path
        index = seen[path] = seen.get(path, -1) + 1
        return script[path][index]

    return ScriptedTransport(step, repeat_last=True)


async def test_interleaved_calls_keep_their_own_retries(clock: VirtualClock) -> None:
    """Calls retrying at the same time on one policy each get their own attempts, statuses and delays."""
    script = {f"/{n}": [503] * n + [200] for n in range(1, 4)}  # /1: one retry, /2: two, /3: three
    policy = RetryPolicy(retry_total=5)
    async with AsyncPipelineClient(transport=_per_path(script), retry_policy=policy) as client:
        results: dict[str, httpx.Response] = {}

        async def call(path: str) -> None:
            results[path] = await client.get(f"http://h.test{path}")

        async with anyio.create_task_group() as group:
            for path in script:
                group.start_soon(call, path)
    for path, statuses in script.items():
        records = history(results[path])
        assert [record.status for record in records] == statuses
        assert [record.note for record in records] == ["retried"] * (len(statuses) - 1) + [None]
        assert all(record.delay > 0 for record in records[:-1])
    assert len(clock.sleeps) == 1 + 2 + 3


def test_threads_sharing_a_policy_keep_their_own_retries() -> None:
    """Two event loops in two threads, one RetryPolicy: each call retries exactly as its script says."""
    policy = RetryPolicy(retry_total=5)
    outcomes: dict[int, list[int | None]] = {}

    def run(number: int) -> None:
        async def main() -> None:
            script = {"/x": [503] * number + [200]}
            async with AsyncPipelineClient(transport=_per_path(script), retry_policy=policy) as client:
                response = await client.get("http://h.test/x")
            outcomes[number] = [record.status for record in history(response)]

        anyio.run(main)

    with zero_wait():
        threads = [threading.Thread(target=run, args=(number,)) for number in (2, 3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    assert outcomes == {2: [503, 503, 200], 3: [503, 503, 503, 200]}
