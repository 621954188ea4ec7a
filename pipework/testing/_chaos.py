"""ChaosApp: a raw ASGI app that injects HTTP faults per key and counts how often each request was executed.

Routes (any method unless said):
    /fault?id=K&script=503,503,200    the next step of the script for each arrival of K (or the header
                                      `x-chaos-script`); see `pipework.testing._faults` for the steps
    /echo                             200 with the method, path, query, headers (secrets redacted) and body
    /redirect?to=/echo&status=302     a redirect to a local path
    /auth                             401 + `WWW-Authenticate: Bearer ...` unless `Authorization: Bearer <token>`
    GET /_counters, DELETE /_counters the per-key counters (arrivals, executions, replays, faults), or a reset
    anything else                     the random fault mode: `FaultModel(fail_rate, seed, ...)` per key

The key of a request is `?id=` (or `?key=`, which pipework's logs redact as a possible secret), else the `x-chaos-key` header, else "METHOD path". A request carrying an
`Idempotency-Key` that was already executed is answered from the stored response (a replay, not an execution):
the server keeps the promise that makes retrying such a POST safe.

Connection resets: ASGI has no message for them. Under uvicorn (h11 or httptools) the app reaches the
connection's asyncio transport through `receive.__self__.transport`, sets SO_LINGER 0 and aborts it: the client
sees a real TCP reset. Elsewhere (e.g. in-process through `httpx.ASGITransport`) it raises the httpx error a
client would see (`httpx.ReadError`, or `httpx.RemoteProtocolError` for a truncated body).

Latency and slow headers wait through pipework's clock: under `zero_wait()` they are instant (and recorded in
`clock.sleeps` beside the client's waits).
"""

from __future__ import annotations

import email.utils
import json
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, quote

import anyio
import httpx

from .. import _time
from .._redact import redact_headers
from ._chaos_faults import ChaosFault, FaultModel, parse_script

__all__ = ["ChaosApp"]

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_NON_IDEMPOTENT = frozenset({"POST", "PATCH"})


class ChaosApp:
    """The fault-injecting ASGI app behind `pipework chaos` and `pipework demo` (see the module docstring).

    Raises:
        ConfigurationError: a bad `fail_rate`, `max_faults` or `latency_ms` (at construction), naming it.
    """

    def __init__(
        self,
        *,
        fail_rate: float = 0.0,
        seed: int = 0,
        max_faults: int = 3,
        latency_ms: tuple[int, int] = (0, 0),
        token: str = "chaos-token",
    ) -> None:
        self.model = FaultModel(fail_rate, seed, max_faults, latency_ms)
        self._token = token
        self.counters: dict[str, dict[str, Any]] = {}
        self._stored: dict[str, tuple[int, bytes]] = {}

    def reset(self) -> None:
        """Forget every counter and stored idempotent response."""
        self.counters.clear()
        self._stored.clear()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan and websockets: nothing to do
            return
        path: str = scope["path"]
        query = {name: values[-1] for name, values in parse_qs(scope["query_string"].decode()).items()}
        headers = httpx.Headers([(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]])
        method: str = scope["method"]
        if path == "/_counters":
            if method == "DELETE":
                self.reset()
            await _respond(send, 200, self.counters)
            return
        if path == "/echo":
            body = await _read_body(receive)
            echoed = {
                "method": method,
                "path": path,
                "query": query,
                "headers": redact_headers(headers),
                "body": body.decode("utf-8", "replace"),
            }
            await _respond(send, 200, echoed)
            return
        if path == "/redirect":
            target = query.get("to", "/echo")
            if not target.startswith("/") or target.startswith("//"):
                await _respond(send, 400, {"error": "redirect target must be a local path"})
                return
            await _respond(send, int(query.get("status", 302)), b"", [("location", target)])
            return
        if path == "/auth":
            await _read_body(receive)
            if headers.get("authorization") == f"Bearer {self._token}":
                await _respond(send, 200, {"authenticated": True})
            else:
                challenge = 'Bearer realm="pipework-chaos", error="invalid_token"'
                await _respond(send, 401, {"error": "invalid_token"}, [("www-authenticate", challenge)])
            return
        await self._faulty(scope, receive, send, method, path, query, headers)

    async def _faulty(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        method: str,
        path: str,
        query: dict[str, str],
        headers: httpx.Headers,
    ) -> None:
        key = query.get("id") or query.get("key") or headers.get("x-chaos-key") or f"{method} {path}"
        counter = self.counters.setdefault(
            key, {"method": method, "arrivals": 0, "executions": 0, "replays": 0, "faults": 0}
        )
        counter["arrivals"] += 1
        arrival = counter["arrivals"]
        script = query.get("script") or headers.get("x-chaos-script")
        latency = 0
        if script is not None or path == "/fault":
            steps = parse_script(script or "200")
            fault = steps[min(arrival, len(steps)) - 1]
        else:
            safe = method not in _NON_IDEMPOTENT or "idempotency-key" in headers
            fault, latency = self.model.draw(key, arrival, safe_to_retry=safe)
        if not (fault.kind == "status" and fault.executes):
            counter["faults"] += 1
        if latency:
            await _time.clock().sleep(latency / 1000)
        if fault.kind == "reset-before":
            await _drop(receive, "the chaos server reset the connection before reading the request")
            return
        body = await _read_body(receive)
        if fault.kind == "redirect":
            await _respond(send, fault.status, b"", [("location", f"/echo?id={quote(key)}")])
            return
        if fault.kind == "status" and not fault.executes:
            await _respond(send, fault.status, {"error": f"chaos: {fault}"}, _wait_headers(fault))
            return
        status, payload = self._execute(counter, key, method, headers, body, fault)
        if fault.kind == "slow":
            await _time.clock().sleep(fault.delay_ms / 1000)
        if fault.kind == "reset-after":
            await _drop(receive, "the chaos server reset the connection after executing the request")
            return
        if fault.kind == "truncate":
            await _truncate(receive, send, payload)
            return
        replayed = [("idempotent-replayed", "true")] if status < 0 else []
        await _respond(send, abs(status), payload, replayed)

    def _execute(
        self,
        counter: dict[str, Any],
        key: str,
        method: str,
        headers: httpx.Headers,
        body: bytes,
        fault: ChaosFault,
    ) -> tuple[int, bytes]:
        """Perform the request's side effect once per Idempotency-Key; a replay returns a negative status."""
        idempotency_key = headers.get("idempotency-key")
        if idempotency_key is not None and idempotency_key in self._stored:
            counter["replays"] += 1
            status, payload = self._stored[idempotency_key]
            return -status, payload
        counter["executions"] += 1
        status = fault.status if fault.kind == "status" else 200
        payload = _json(
            {"key": key, "method": method, "execution": counter["executions"], "received_bytes": len(body)}
        )
        if idempotency_key is not None:
            self._stored[idempotency_key] = (status, payload)
        return status, payload

    def __repr__(self) -> str:
        model = self.model
        return (
            f"ChaosApp(fail_rate={model.fail_rate}, seed={model.seed}, max_faults={model.max_faults}, "
            f"latency_ms={model.latency_ms}, keys={len(self.counters)})"
        )


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def _wait_headers(fault: ChaosFault) -> list[tuple[str, str]]:
    headers = []
    for name, value in fault.headers:
        if name == "retry-after-date":
            headers.append(("retry-after", email.utils.formatdate(time.time() + float(value), usegmt=True)))
        else:
            headers.append((name, value))
    return headers


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _respond(send: Send, status: int, body: Any, headers: list[tuple[str, str]] | None = None) -> None:
    payload = body if isinstance(body, bytes) else _json(body)
    raw_headers = [(b"content-length", str(len(payload)).encode())]
    if payload:
        raw_headers.append((b"content-type", b"application/json"))
    raw_headers += [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers or ()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


def _transport_of(receive: Receive) -> Any:
    """The connection's asyncio transport under uvicorn (h11/httptools), else None."""
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    return transport if hasattr(transport, "abort") and hasattr(transport, "get_extra_info") else None


async def _wait_disconnect(receive: Receive) -> None:
    with anyio.move_on_after(2):
        while (await receive())["type"] != "http.disconnect":
            pass


async def _drop(receive: Receive, why: str) -> None:
    """Reset the connection (RST) without an answer; raises httpx.ReadError when no socket is reachable."""
    transport = _transport_of(receive)
    if transport is None:
        raise httpx.ReadError(why)
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    await _wait_disconnect(receive)


async def _truncate(receive: Receive, send: Send, payload: bytes) -> None:
    """Announce the full length, send half the body, then close the connection."""
    headers = [(b"content-length", str(len(payload)).encode()), (b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": payload[: len(payload) // 2], "more_body": True})
    transport = _transport_of(receive)
    if transport is None:
        raise httpx.RemoteProtocolError("the chaos server closed the connection in the middle of the body")
    transport.close()
    await _wait_disconnect(receive)
