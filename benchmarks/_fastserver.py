"""A minimal HTTP/1.1 keep-alive server for loopback benchmarks, run in its own process.

It answers every request with a fixed 200 and a small body, as fast as asyncio allows, so that the
client side is what the benchmark measures. (Benchmark code, not library code: it may use asyncio.)
"""

from __future__ import annotations

import asyncio
import multiprocessing
import socket
from typing import Any

BODY = b'{"ok": true, "payload": "' + b"x" * 64 + b'"}'
RESPONSE = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(BODY) + BODY
)


class _Protocol(asyncio.Protocol):
    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].lower()
            length = 0
            marker = head.find(b"content-length:")
            if marker >= 0:
                length = int(head[marker + 15 :].split(b"\r\n", 1)[0])
            total = end + 4 + length
            if len(self.buffer) < total:
                return
            self.buffer = self.buffer[total:]
            self.transport.write(RESPONSE)


def _run(sock: socket.socket) -> None:
    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(_Protocol, sock=sock)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


class FastServer:
    """`with FastServer() as url:` — the server runs in a child process on a free loopback port."""

    def __enter__(self) -> str:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1024)
        self.process = multiprocessing.get_context("fork").Process(
            target=_run, args=(self.sock,), daemon=True
        )
        self.process.start()
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.join(5)
        self.sock.close()
