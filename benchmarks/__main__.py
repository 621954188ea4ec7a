"""Run every `benchmarks/bench_*.py` module present (each exposes `main()`), in name order.

`python -m benchmarks` runs them all; `python -m benchmarks overhead retry` only those whose name contains
one of the words given. Benches that produce a markdown table write `benchmarks/results-<name>.md`; the
tables of this run are then joined into `benchmarks/results-all.md` (gitignored; the README quotes one).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
import time

import benchmarks
from benchmarks import _harness


def main(argv: list[str]) -> int:
    """Import and run each bench module; a failing one is reported and the others still run."""
    names = sorted(
        info.name for info in pkgutil.iter_modules(benchmarks.__path__) if info.name.startswith("bench_")
    )
    if argv:
        names = [name for name in names if any(word in name for word in argv)]
    failed = []
    for name in names:
        _harness.HERE.joinpath(f"results-{name.removeprefix('bench_')}.md").unlink(missing_ok=True)
    for name in names:
        print(f"== {name} ==", flush=True)
        started = time.perf_counter()
        try:
            module = importlib.import_module(f"benchmarks.{name}")
            run = module.main
            # mains that take argv get [] (their defaults), never this runner's own arguments
            run([]) if inspect.signature(run).parameters else run()
        except Exception as exc:  # keep going: one broken bench must not hide the others' figures
            failed.append(name)
            print(f"!! {name} failed: {type(exc).__name__}: {exc}", flush=True)
        print(f"   ({time.perf_counter() - started:.1f} s)\n", flush=True)
    joined = _harness.join([name.removeprefix("bench_") for name in names])
    if joined is not None:
        print(f"markdown tables of this run: {joined}")
    if failed:
        print("failed:", ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
