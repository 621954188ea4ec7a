"""A small forwarding HTTP proxy on a loopback port, in a thread, recording every request line it sees."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Seen:
    """What the proxy received: request lines and headers (names lower-cased), in order."""

    lines: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        line = self.rfile.readline().decode("latin-1").rstrip("\r\n")
        if not line:
            return
        headers: dict[str, str] = {}
        while (raw := self.rfile.readline().decode("latin-1").rstrip("\r\n")) != "":
            name, _, value = raw.partition(":")
            headers[name.strip().lower()] = value.strip()
        self.server.seen.lines.append(line)
        self.server.seen.headers.append(headers)
        method, target, _ = line.split(" ", 2)
        if method == "CONNECT":  # tunnels are refused: the test only checks the proxy was asked
            self.wfile.write(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            return
        body = self.rfile.read(int(headers.get("content-length", "0")))
        url = urlsplit(target)
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        forwarded = [f"{method} {path} HTTP/1.1"]
        forwarded += [
            f"{k}: {v}" for k, v in headers.items() if k not in ("proxy-authorization", "connection")
        ]
        forwarded.append("connection: close")
        assert url.hostname is not None
        assert url.port is not None
        with socket.create_connection((url.hostname, url.port), timeout=10) as upstream:
            upstream.sendall(("\r\n".join(forwarded) + "\r\n\r\n").encode("latin-1") + body)
            while chunk := upstream.recv(65536):
                self.wfile.write(chunk)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    seen: Seen


@contextmanager
def forward_proxy() -> Iterator[tuple[str, Seen]]:
    """Run the proxy on 127.0.0.1 and a free port; yields its URL and what it saw; stops on exit."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.seen = Seen()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
