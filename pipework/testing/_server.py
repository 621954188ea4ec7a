"""A real HTTP server on a free loopback port, in a thread, for tests and the demo."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["serve"]


@contextmanager
def serve(
    app: Any,
    *,
    host: str = "127.0.0.1",
    startup_timeout: float = 10.0,
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
) -> Iterator[str]:
    """Serve the ASGI `app` with uvicorn on `host` and a free port; yields the base URL, stops on exit.

    With `ssl_certfile` (PEM: the certificate chain, and the key unless `ssl_keyfile` names it) the server
    speaks TLS and the URL is https: for testing a client's certificate handling against a test CA
    (`trustme`, for instance).

    Raises:
        ImportError: uvicorn is not installed (`pip install 'pipework[cli]'`).
        ValueError: `ssl_keyfile` without `ssl_certfile`.
        RuntimeError: the server did not start within `startup_timeout` seconds.
    """
    import uvicorn

    if ssl_keyfile is not None and ssl_certfile is None:
        raise ValueError(
            "serve(ssl_keyfile=...) needs ssl_certfile= too (the certificate the key belongs to)"
        )
    # Port 0 lets the OS pick a free port. (Handing uvicorn a pre-bound socket instead leaves Nagle on for
    # its connections: every response then waits ~40 ms for a delayed ACK.)
    config = uvicorn.Config(
        app,
        host=host,
        port=0,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_keep_alive=30,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
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
        yield f"{'https' if ssl_certfile else 'http'}://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
