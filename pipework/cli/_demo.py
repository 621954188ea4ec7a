"""`pipework demo`: one workload, three clients, one chaos server on loopback — and what each client achieved."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import random
import time
from collections.abc import Callable
from typing import Any

import anyio
import httpx

from .. import AsyncPipelineClient, PipeworkError, RetryConfig, history
from ..resilience import ResilienceConfig
from ..testing import ChaosApp, serve
from ._report import ClientResult, Console, render_table

__all__ = ["run_demo"]

_BACKOFF = 0.05
"""The demo's backoff factor: the default is 0.8 s, scaled down so the demo runs in seconds (waits are real)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Op:
    """One call of the workload."""

    method: str
    path: str
    key: str
    idempotency_key: str | None = None

    @property
    def non_idempotent(self) -> bool:
        return self.method in ("POST", "PATCH")


@dataclasses.dataclass(frozen=True, slots=True)
class ClientSpec:
    """A client of the comparison: its name, how it is built, what to tell the reader about it."""

    name: str
    retry: RetryConfig
    timeout: httpx.Timeout
    note: str
    resilience: ResilienceConfig | None = None


def workload(count: int, seed: int) -> list[Op]:
    """GETs (50%), PUTs (15%), POSTs (35%, half of them with an Idempotency-Key); the same for every seed."""
    rng = random.Random(seed)
    ops = []
    for index in range(count):
        draw = rng.random()
        key = f"op-{index:04d}"
        if draw < 0.5:
            ops.append(Op("GET", f"/items/{index}", key))
        elif draw < 0.65:
            ops.append(Op("PUT", f"/items/{index}", key))
        elif draw < 0.825:
            ops.append(Op("POST", "/orders", key, idempotency_key=f"idem-{seed}-{index}"))
        else:
            ops.append(Op("POST", "/orders", key))
    return ops


def client_specs() -> list[ClientSpec]:
    """No retries; the default pipeline; the resilience preset (both with a short backoff)."""
    default_timeout = httpx.Timeout(10.0, read=60.0)
    return [
        ClientSpec("no retries", RetryConfig.disabled(), default_timeout, "RetryConfig.disabled()"),
        ClientSpec(
            "default",
            RetryConfig(backoff_factor=_BACKOFF),
            default_timeout,
            f"AsyncPipelineClient() defaults, backoff_factor {_BACKOFF} s",
        ),
        ClientSpec(
            "resilient",
            RetryConfig(backoff_factor=_BACKOFF),
            default_timeout,
            "standard resilience preset (budget, breaker), 0.5 s per attempt",
            ResilienceConfig(retry=RetryConfig(backoff_factor=_BACKOFF), attempt_timeout=0.5),
        ),
    ]


async def _run_client(
    spec: ClientSpec, base_url: str, ops: list[Op], concurrency: int, advance: Callable[[], None]
) -> ClientResult:
    result = ClientResult(spec.name, calls=len(ops))
    limiter = anyio.CapacityLimiter(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with AsyncPipelineClient(
        base_url,
        retry_policy=spec.retry if spec.resilience is None else None,
        resilience=spec.resilience,
        timeout=spec.timeout,
        limits=limits,
        trust_env=False,
    ) as client:

        async def call(op: Op) -> None:
            headers = {"idempotency-key": op.idempotency_key} if op.idempotency_key else None
            body = b'{"item": "demo"}' if op.method != "GET" else None
            async with limiter:
                started = time.perf_counter()
                outcome: httpx.Response | Exception
                try:
                    outcome = await client.request(
                        op.method, op.path, params={"id": op.key}, headers=headers, content=body
                    )
                    ok = outcome.is_success
                except (httpx.HTTPError, PipeworkError) as exc:
                    outcome, ok = exc, False
                result.record(ok, time.perf_counter() - started, history(outcome))
                advance()

        async with anyio.create_task_group() as group:
            for op in ops:
                group.start_soon(call, op)
    return result


async def _compare(args: argparse.Namespace, base_url: str, console: Console) -> list[ClientResult]:
    ops = workload(args.requests, args.seed)
    posts = {op.key for op in ops if op.non_idempotent}
    results = []
    async with httpx.AsyncClient(base_url=base_url, trust_env=False) as control:
        for spec in client_specs():
            await control.delete("/_counters")
            with console.progress(spec.name, len(ops)) as advance:
                result = await _run_client(spec, base_url, ops, args.concurrency, advance)
            counters: dict[str, dict[str, Any]] = (await control.get("/_counters")).json()
            for key in posts:
                executions = counters.get(key, {}).get("executions", 0)
                result.post_executions += executions
                result.duplicates += max(0, executions - 1)
                result.replays += counters.get(key, {}).get("replays", 0)
            result.posts = len(posts)
            results.append(result)
    return results


def run_demo(args: argparse.Namespace) -> int:
    """Run the comparison and print the table; 0 unless a pipework client executed a POST twice."""
    console = Console()
    random.seed(args.seed)  # the jitter draws; the faults depend only on (seed, key, attempt)
    retry_logger = logging.getLogger("pipework.retry")
    if args.verbose:
        console.log_to_console(retry_logger)
    else:  # the no-retries client gives up often: its WARNING lines would drown the table
        retry_logger.setLevel(logging.ERROR)
    specs = client_specs()
    console.say(
        f"pipework demo: {args.requests} calls (GETs, PUTs, POSTs, some with an Idempotency-Key),\n"
        f"{args.concurrency} at a time, against a chaos server on 127.0.0.1 failing {args.fail_rate:.0%}"
        f" of attempts\n(seed {args.seed}; at most 3 faults per call; POSTs without a key: 429/503 only).\n"
        f"Waits are real but short: backoff_factor {_BACKOFF} s (default 0.8 s);\n"
        "server Retry-After waits (up to 1 s) are honoured."
    )
    for spec in specs:
        console.say(f"  {spec.name:<11} {spec.note}")
    started = time.perf_counter()
    with serve(ChaosApp(fail_rate=args.fail_rate, seed=args.seed, max_faults=3)) as base_url:
        results = anyio.run(_compare, args, base_url, console)
    render_table(console, results, time.perf_counter() - started)
    duplicated = [result.name for result in results if result.duplicates]
    if duplicated:
        console.say(f"error: POSTs executed twice by: {', '.join(duplicated)}")
        return 1
    return 0
