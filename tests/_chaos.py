"""`pipework chaos` in its own process on a free loopback port, for the CLI and soak suites."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

# The child and the probes below must not go through a proxy the environment names.
ENV = {name: value for name, value in os.environ.items() if "proxy" not in name.lower()}


def free_port() -> int:
    """A loopback port nothing listens on (for the moment)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def chaos_process(startup: float = 20.0) -> Iterator[str]:
    """Start `python -m pipework.cli chaos --port P`; yield its base URL once it answers; stop it on exit.

    Fails at once with the child's stderr if it exits during startup, and after `startup` seconds if it never
    answers.
    """
    port = free_port()
    with tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "pipework.cli", "chaos", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=ENV,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + startup
            while True:
                try:
                    httpx.get(f"{url}/_counters", timeout=1, trust_env=False).raise_for_status()
                    break
                except httpx.HTTPError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        stderr.seek(0)
                        raise RuntimeError(f"pipework chaos did not start:\n{stderr.read()}") from None
                    time.sleep(0.05)
            yield url
        finally:
            process.terminate()
            process.wait(10)
