"""A real HTTP server on a free loopback port, in a thread, for tests and the demo."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["serve"]


@contextmanager
def serve(app: Any, *, host: str = "127.0.0.1", startup_timeout: float = 10.0) -> Iterator[str]:
    """Serve the ASGI `app` with uvicorn on `host` and a free port; yields the base URL, stops on exit.

    Raises:
        ImportError: uvicorn is not installed (`pip install 'pipework[cli]'`).
        RuntimeError: the server did not start within `startup_timeout` seconds.
    """
    import uvicorn

    # Port 0 lets the OS pick a free port. (Handing uvicorn a pre-bound socket instead leaves Nagle on for
    # its connections: every response then waits ~40 ms for a delayed ACK.)
    config = uvicorn.Config(
        app, host=host, port=0, log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=30
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True, name="pipework-serve")
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the loopback server did not start")
        time.sleep(0.005)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
