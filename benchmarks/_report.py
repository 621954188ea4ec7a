"""Markdown results: each bench writes `benchmarks/results-<name>.md`; the runner joins them (gitignored)."""

from __future__ import annotations

import os
import platform
from pathlib import Path

HERE = Path(__file__).parent


def machine_note() -> str:
    """One line saying what the figures were measured on (they only compare side by side, in one run)."""
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (
        f"{platform.python_implementation()} {platform.python_version()} on {platform.system()} "
        f"{platform.machine()}, {os.cpu_count()} CPUs, load average (1, 5, 15 min) {load} as the table was written"
    )


def write(name: str, title: str, command: str, table: str, note: str = "") -> Path:
    """Write `results-<name>.md`: a heading, the command that produced it, the machine, the table."""
    path = HERE / f"results-{name}.md"
    parts = [f"### {title}", "", f"`{command}` — {machine_note()}", ""]
    if note:
        parts += [note, ""]
    path.write_text("\n".join([*parts, table, ""]), encoding="utf-8")
    return path


def join(names: list[str], target: str = "results-all.md") -> Path | None:
    """Concatenate the results files of the benches that just ran (those that wrote one) into `target`."""
    found = [HERE / f"results-{name}.md" for name in names]
    present = [path for path in found if path.exists()]
    if not present:
        return None
    path = HERE / target
    path.write_text("\n".join(p.read_text(encoding="utf-8") for p in present), encoding="utf-8")
    return path
