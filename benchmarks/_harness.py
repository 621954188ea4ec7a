"""What every bench shares: options, interleaved rounds, timing, medians and ratios, the markdown results.

Each `bench_<name>.py` measures its contenders side by side in one run: rounds are interleaved and the order
rotates each round (so a slow moment of the machine hits every contender alike), and medians are compared.
The table is printed and written to `benchmarks/results-<name>.md` with the command and a machine note; the
runner (`python -m benchmarks`) joins the files of one run into `results-all.md` (all gitignored).

Sizes: `--rounds` / `--requests` flags, defaulting to `PIPEWORK_BENCH_ROUNDS` / `PIPEWORK_BENCH_REQUESTS`
when set (the runner passes no flags, so the variables size a whole `python -m benchmarks` run).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import anyio
import httpx

HERE = Path(__file__).parent
BODY = b'{"id": 42, "name": "pipework", "tags": ["a", "b", "c"]}'
URL = "http://bench.test/items/42"

Send = Callable[[], Awaitable[object]]
Results = dict[str, list[float]]


class Gets(Protocol):
    """A client with an async `get` (httpx.AsyncClient, pipework.AsyncPipelineClient)."""

    def get(self, url: str) -> Awaitable[httpx.Response]: ...


# -- options -----------------------------------------------------------------------------------------


def parser(
    name: str, doc: str | None, *, rounds: int, requests: int | None = None, backend: bool = False
) -> argparse.ArgumentParser:
    """The bench's argument parser: --rounds (and --requests, --backend when asked), env-var defaults."""
    result = argparse.ArgumentParser(
        prog=f"python -m benchmarks.bench_{name}", description=doc.splitlines()[0] if doc else None
    )
    result.add_argument("--rounds", type=int, default=int(os.environ.get("PIPEWORK_BENCH_ROUNDS", rounds)))
    if requests is not None:
        default = int(os.environ.get("PIPEWORK_BENCH_REQUESTS", requests))
        result.add_argument("--requests", type=int, default=default)
    if backend:
        result.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    return result


@dataclass(frozen=True)
class Run:
    """What an in-process bench measured (µs/call of every round for each contender), and how."""

    results: Results
    backend: str
    rounds: int
    requests: int

    @property
    def note(self) -> str:
        """The line under the table saying how the figures were taken."""
        return (
            f"backend {self.backend}, {self.rounds} interleaved rounds of {self.requests} sequential requests"
        )


def in_process(
    name: str,
    doc: str | None,
    argv: list[str] | None,
    run: Callable[[int, int], Awaitable[Results]],
    *,
    rounds: int,
    requests: int,
) -> Run:
    """Parse `argv` (--rounds, --requests, --backend) and run `run(rounds, requests)` on that backend."""
    args = parser(name, doc, rounds=rounds, requests=requests, backend=True).parse_args(argv or [])
    results = anyio.run(run, args.rounds, args.requests, backend=args.backend)
    return Run(results, args.backend, args.rounds, args.requests)


# -- timing ------------------------------------------------------------------------------------------


@dataclass
class Stopwatch:
    """Wall and process-CPU seconds of a `with stopwatch()` block (set when the block ends)."""

    wall: float = 0.0
    cpu: float = 0.0


@contextmanager
def stopwatch() -> Iterator[Stopwatch]:
    """Time the block on both clocks: wall time, and this process's CPU time (steadier on a shared machine)."""
    watch = Stopwatch()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield watch
    finally:
        watch.wall = time.perf_counter() - wall
        watch.cpu = time.process_time() - cpu


async def timed(send: Send, count: int, *, cpu: bool = False, collect: bool = True) -> float:
    """Microseconds per call over `count` sequential calls (wall time, or process CPU time with `cpu`).

    A garbage collection first (unless `collect` is False), so no run pays for the previous one's garbage.
    """
    if collect:
        gc.collect()
    with stopwatch() as watch:
        for _ in range(count):
            await send()
    return (watch.cpu if cpu else watch.wall) / count * 1e6


def warmup(requests: int) -> int:
    """How many calls warm a contender up before its timed rounds (imports, pools, caches)."""
    return max(50, requests // 10)


def rotations(names: Sequence[str], rounds: int) -> Iterator[list[str]]:
    """The order of each round: the names rotated by one place per round, so no one keeps a fixed slot."""
    for index in range(rounds):
        shift = index % len(names)
        yield [*names[shift:], *names[:shift]]


async def interleaved(
    contenders: Mapping[str, Send],
    rounds: int,
    requests: int,
    *,
    cpu: bool = False,
    before: Callable[[str], object] | None = None,
) -> Results:
    """Warm every contender up, then interleaved rounds; the µs/call of every round for each contender.

    `before(name)` runs ahead of each timed (and warm-up) run of `name`, outside the timing.
    """
    for name, send in contenders.items():
        if before is not None:
            before(name)
        await timed(send, warmup(requests), cpu=cpu)
    results: Results = {name: [] for name in contenders}
    for order in rotations(list(contenders), rounds):
        for name in order:
            if before is not None:
                before(name)
            results[name].append(await timed(contenders[name], requests, cpu=cpu))
    return results


# -- the in-process mock server ----------------------------------------------------------------------


def mock_transport(
    inspect: Callable[[httpx.Request], object] | None = None, body: bytes = BODY
) -> httpx.MockTransport:
    """An `httpx.MockTransport` answering 200 with `body` (JSON); `inspect(request)` sees each request first."""
    headers = {"content-type": "application/json"}

    def handler(request: httpx.Request) -> httpx.Response:
        if inspect is not None:
            inspect(request)
        return httpx.Response(200, content=body, headers=headers)

    return httpx.MockTransport(handler)


def check(response: httpx.Response, body: bytes | None = BODY) -> httpx.Response:
    """Raise AssertionError unless the response is a 200 with `body` (any body when `body` is None)."""
    if response.status_code != 200 or (body is not None and response.content != body):
        raise AssertionError(f"bad response: {response.status_code} {response.content[:60]!r}")
    return response


def getter(client: Gets, url: str = URL, body: bytes | None = BODY) -> Send:
    """A Send that GETs `url` with `client` and checks the answer (an AsyncPipelineClient is one)."""

    async def send() -> None:
        check(await client.get(url), body)

    return send


# -- figures -----------------------------------------------------------------------------------------


def medians(results: Mapping[str, Iterable[float]]) -> dict[str, float]:
    """The median of each contender's samples."""
    return {name: statistics.median(samples) for name, samples in results.items()}


def spread(samples: Sequence[float], digits: int = 1, *, grouped: bool = False) -> str:
    """`median (min-max)`, with `digits` decimals (and thousands separators when `grouped`)."""
    form = f"{',' if grouped else ''}.{digits}f"
    low, mid, high = (
        format(value, form) for value in (min(samples), statistics.median(samples), max(samples))
    )
    return f"{mid} ({low}-{high})"


def ratio(value: float, base: float, digits: int = 2) -> str:
    """`value / base` as `1.23x`."""
    return f"{value / base:.{digits}f}x"


def verdict(met: bool, miss: str = "OVER") -> str:
    """`ok`, or `miss` when a target is not met."""
    return "ok" if met else miss


def markdown(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def compare(
    results: Mapping[str, Sequence[float]],
    base: str,
    unit: str,
    *,
    digits: int = 1,
    targets: Mapping[str, str] | None = None,
) -> str:
    """The usual table: each contender's median (min-max) in `unit`, its ratio to `base`, and any target."""
    base_median = statistics.median(results[base])
    header = ["contender", f"{unit} median (min-max)", f"vs {base}"]
    rows: list[list[str]] = [
        [name, spread(samples, digits), ratio(statistics.median(samples), base_median, 3)]
        for name, samples in results.items()
    ]
    if targets is not None:
        header.append("target")
        for row in rows:
            row.append(targets.get(row[0], ""))
    return markdown(header, rows)


# -- the results files -------------------------------------------------------------------------------


def machine_note() -> str:
    """One line saying what the figures were measured on (they only compare side by side, in one run)."""
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (
        f"{platform.python_implementation()} {platform.python_version()} on {platform.system()} "
        f"{platform.machine()}, {os.cpu_count()} CPUs, load average (1, 5, 15 min) {load} as the table was written"
    )


def publish(name: str, title: str, table: str, note: str = "", lines: Sequence[str] = ()) -> Path:
    """Print the note, the table and the extra lines; write them to `results-<name>.md` with the command."""
    print("\n".join([*([note, ""] if note else []), table, *(["", *lines] if lines else [])]))
    path = HERE / f"results-{name}.md"
    parts = [f"### {title}", "", f"`python -m benchmarks {name}` — {machine_note()}", ""]
    if note:
        parts += [note, ""]
    parts.append(table)
    if lines:
        parts += ["", *(f"- {line}" for line in lines)]
    path.write_text("\n".join([*parts, ""]), encoding="utf-8")
    return path


def join(names: list[str], target: str = "results-all.md") -> Path | None:
    """Concatenate the results files of the benches that just ran (those that wrote one) into `target`."""
    present = [path for path in (HERE / f"results-{name}.md" for name in names) if path.exists()]
    if not present:
        return None
    path = HERE / target
    path.write_text("\n".join(p.read_text(encoding="utf-8") for p in present), encoding="utf-8")
    return path
