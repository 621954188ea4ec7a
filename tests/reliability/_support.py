"""Leak probes and hostile raw-socket servers for the reliability and security suites."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

import httpx
import sniffio

from pipework import AsyncPipelineClient


def open_sockets() -> int:
    """Sockets this process holds open (client and in-thread servers alike), from /proc/self/fd."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                count += 1
        except OSError:  # closed while we looked
            pass
    return count


def wait_for_sockets(expected: int, timeout: float = 3.0) -> int:
    """Poll until at most `expected` sockets are open (servers close their ends a moment after the client)."""
    deadline = time.monotonic() + timeout
    while (count := open_sockets()) > expected and time.monotonic() < deadline:
        time.sleep(0.02)
    return count


def live_tasks() -> int:
    """Tasks alive in the running event loop (asyncio or trio)."""
    if sniffio.current_async_library() == "trio":
        import trio

        return int(trio.lowlevel.current_statistics().tasks_living)
    import asyncio

    return len(asyncio.all_tasks())


def pool_connections(client: AsyncPipelineClient) -> int:
    """Connections held by the client's httpx transport pool."""
    transport = client.pipeline.transport
    assert isinstance(transport, httpx.AsyncHTTPTransport)
    return len(transport._pool.connections)


Handler = Callable[[socket.socket], None]


@contextmanager
def raw_server(handler: Handler) -> Iterator[str]:
    """A TCP server on a free 127.0.0.1 port; `handler(conn)` runs per connection in a thread.

    Yields the base URL; on exit every socket it opened is closed and its threads joined.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.05)
    stop = threading.Event()
    conns: list[socket.socket] = []
    workers: list[threading.Thread] = []

    def serve_one(conn: socket.socket) -> None:
        with suppress(OSError):
            handler(conn)

    def accept_loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conns.append(conn)
            worker = threading.Thread(target=serve_one, args=(conn,), daemon=True)
            workers.append(worker)
            worker.start()

    acceptor = threading.Thread(target=accept_loop, daemon=True, name="raw-server")
    acceptor.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        acceptor.join(2)
        for conn in conns:
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        for worker in workers:
            worker.join(2)
        listener.close()


def read_request_head(conn: socket.socket, limit: int = 65536) -> bytes:
    """Read until the end of the request head (or EOF / `limit` bytes)."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < limit:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data
