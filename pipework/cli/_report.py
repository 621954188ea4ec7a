"""The demo's figures and their display: rich when installed (progress bar, table), plain text otherwise."""

from __future__ import annotations

import dataclasses
import logging
import statistics
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..pipeline import AttemptRecord

__all__ = ["ClientResult", "Console", "render_table"]


@dataclasses.dataclass(slots=True)
class ClientResult:
    """What one client achieved on the workload (client side), plus the server's execution counts."""

    name: str
    calls: int
    succeeded: int = 0
    attempts: list[int] = dataclasses.field(default_factory=list)
    latencies: list[float] = dataclasses.field(default_factory=list)
    delay: float = 0.0
    posts: int = 0
    post_executions: int = 0
    duplicates: int = 0
    replays: int = 0

    def record(self, ok: bool, latency: float, attempts: Sequence[AttemptRecord]) -> None:
        """Add one finished call."""
        self.succeeded += ok
        self.attempts.append(max(1, len(attempts)))
        self.latencies.append(latency)
        self.delay += sum(record.delay for record in attempts)

    def percentile(self, q: int) -> float:
        """The q-th latency percentile, in milliseconds."""
        if len(self.latencies) < 2:
            return 1000 * (self.latencies[0] if self.latencies else 0.0)
        return 1000 * statistics.quantiles(self.latencies, n=100, method="inclusive")[q - 1]

    def with_attempts(self, low: int, high: int | None = None) -> int:
        return sum(1 for n in self.attempts if n >= low and (high is None or n <= high))


def render_table(console: Console, results: Sequence[ClientResult], seconds: float) -> None:
    """One column per client, one row per figure."""
    rows: list[tuple[str, list[str]]] = [
        ("success", [f"{100 * r.succeeded / r.calls:.1f}% ({r.succeeded}/{r.calls})" for r in results]),
        ("attempts per call", [f"{sum(r.attempts) / r.calls:.2f}" for r in results]),
        ("POST executions", [f"{r.post_executions} for {r.posts} POSTs" for r in results]),
        ("POST duplicates", [str(r.duplicates) for r in results]),
        ("idempotent replays", [str(r.replays) for r in results]),
        *((f"latency p{q}", [f"{r.percentile(q):.0f} ms" for r in results]) for q in (50, 95, 99)),
        ("retry delay, total", [f"{r.delay:.2f} s" for r in results]),
        ("calls with 1 attempt", [str(r.with_attempts(1, 1)) for r in results]),
        ("  2 attempts", [str(r.with_attempts(2, 2)) for r in results]),
        ("  3 attempts", [str(r.with_attempts(3, 3)) for r in results]),
        ("  4+ attempts", [str(r.with_attempts(4)) for r in results]),
    ]
    console.table([r.name for r in results], rows)
    console.say(f"done in {seconds:.1f} s")


class Console:
    """Output for the demo: rich if it is installed, plain lines if not."""

    def __init__(self) -> None:
        try:
            import rich.console
        except ImportError:
            self._rich: Any = None
        else:
            self._rich = rich.console.Console(highlight=False)

    def say(self, text: str) -> None:
        if self._rich is not None:
            self._rich.print(text, markup=False, highlight=False)
        else:
            print(text, flush=True)

    @contextmanager
    def progress(self, name: str, total: int) -> Iterator[Callable[[], None]]:
        """A progress bar for `total` calls; yields the function to call after each one."""
        if self._rich is None or not self._rich.is_terminal:
            done = [0]

            def count() -> None:
                done[0] += 1

            yield count
            self.say(f"  {name:<11} {done[0]}/{total} calls done")
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        columns = (TextColumn(f"  {name:<11}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=self._rich) as bar:
            task = bar.add_task(name, total=total)
            yield lambda: bar.advance(task)

    def table(self, columns: Sequence[str], rows: Sequence[tuple[str, Sequence[str]]]) -> None:
        if self._rich is not None:
            from rich import box
            from rich.table import Table

            table = Table(box=box.SIMPLE_HEAD, show_edge=False)
            table.add_column("")
            for column in columns:
                table.add_column(column, justify="right")
            for label, cells in rows:
                table.add_row(label, *cells)
            self._rich.print(table)
            return
        widths = [max(len(label) for label, _ in rows)] + [
            max(len(column), *(len(cells[i]) for _, cells in rows)) for i, column in enumerate(columns)
        ]
        header = ["", *columns]
        print(
            "  ".join(
                text.rjust(w) if i else text.ljust(w)
                for i, (text, w) in enumerate(zip(header, widths, strict=True))
            )
        )
        for label, cells in rows:
            line = [label, *cells]
            print(
                "  ".join(
                    text.rjust(w) if i else text.ljust(w)
                    for i, (text, w) in enumerate(zip(line, widths, strict=True))
                )
            )

    def log_to_console(self, logger: logging.Logger) -> None:
        """Show `logger`'s INFO lines (the message only, the reference page's format)."""
        console = self

        class _Handler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                console.say(self.format(record))

        handler = _Handler() if self._rich is not None else logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
