"""Loopback servers for the retry tests: a scripted ASGI app and a raw socket server that resets connections."""

from __future__ import annotations

import socket
import threading
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import anyio

Step = int | tuple[int, Mapping[str, str]] | Callable[[], tuple[int, Mapping[str, str]]] | str
"""A status; a status and headers; a function giving them (evaluated when the request arrives); or "slow"
(answer nothing until the client hangs up, at most 5 s)."""

SLOW = "slow"


class ScriptedApp:
    """An ASGI app: each path `/<key>` answers with the steps scripted for that key (the last one repeats).

    It counts the attempts per key and keeps the request bodies and headers it received.
    """

    def __init__(self) -> None:
        self.scripts: dict[str, list[Step]] = {}
        self.attempts: Counter[str] = Counter()
        self.bodies: defaultdict[str, list[bytes]] = defaultdict(list)
        self.headers: defaultdict[str, list[dict[str, str]]] = defaultdict(list)

    def script(self, *steps: Step) -> str:
        """Register a script under a fresh key; returns its path."""
        key = uuid.uuid4().hex
        self.scripts[key] = list(steps)
        return f"/{key}"

    def count(self, path: str) -> int:
        """Attempts that reached the server for `path` (the query is ignored)."""
        return self.attempts[path.split("?")[0].strip("/")]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        key = scope["path"].strip("/")
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        number = self.attempts[key]
        self.attempts[key] += 1
        self.bodies[key].append(body)
        self.headers[key].append({k.decode().lower(): v.decode() for k, v in scope["headers"]})
        steps = self.scripts.get(key, [404])
        step = steps[min(number, len(steps) - 1)]
        if step == SLOW:
            with anyio.move_on_after(5):
                while (await receive())["type"] != "http.disconnect":
                    pass
            return
        if callable(step):
            step = step()
        status, headers = (step, {}) if isinstance(step, int) else step
        assert isinstance(status, int)
        raw = [(b"content-type", b"text/plain"), *((k.encode(), v.encode()) for k, v in headers.items())]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": f"attempt {number + 1}".encode()})


@contextmanager
def resetting_server(resets: int) -> Iterator[tuple[str, list[bytes]]]:
    """A raw HTTP server on 127.0.0.1: the first `resets` connections read the whole request and are then
    reset (RST, no response); later ones get `200 ok`. Yields the base URL and the requests received."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.05)
    received: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                head, _, rest = data.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                while len(rest) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    rest += chunk
                received.append(head)
                if len(received) <= resets:
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    continue
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    thread = threading.Thread(target=serve, daemon=True, name="resetting-server")
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", received
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def closed_port_url() -> str:
    """A loopback URL on which nothing listens (connection refused)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"
