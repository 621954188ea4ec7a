"""Every script in examples/ runs to success against a loopback upstream the test starts."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipework.testing import serve

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    """The examples' own flaky upstream (examples/_flaky.py) on a free 127.0.0.1 port."""
    spec = importlib.util.spec_from_file_location("examples_flaky", EXAMPLES / "_flaky.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with serve(module.FlakyUpstream()) as url:
        yield url


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("sync_script.py", "GET /items/sync-1 -> 200 after 3 attempts"),
        ("trio_script.py", "GET /items/trio-4 -> 200 after 3 attempts"),
        ("fastapi_service.py", "GET /items/fastapi-1 -> 200"),
    ],
)
def test_example_runs(script: str, expected: str, upstream: str) -> None:
    """The script exits 0 and prints what its docstring promises."""
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), upstream],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert expected in done.stdout
