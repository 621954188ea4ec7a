"""A FastAPI service calling a flaky upstream through pipework.

The pattern: ONE AsyncPipelineClient per application, opened and closed by the lifespan, injected as a
dependency; each outbound call gets the time the inbound request has left (`x-request-timeout`) as its
`timeout_budget`, and is cancelled if the inbound client disconnects.

    UPSTREAM_URL=https://api.example.com uvicorn fastapi_service:app   # from examples/
    python examples/fastapi_service.py [UPSTREAM_URL]   # serves itself, calls itself once, prints, exits
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import uvicorn
from _flaky import FlakyUpstream
from fastapi import Depends, FastAPI, HTTPException, Request

from pipework import AsyncPipelineClient, PipelineClient, RetryPolicy, history
from pipework.integrations import budget_from_headers, cancel_on_disconnect
from pipework.testing import serve


def create_app(upstream: str) -> FastAPI:
    """The service: `GET /items/{key}` fetches the item from `upstream`, retrying its transient failures."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        retry = RetryPolicy(retry_total=3, retry_backoff_factor=0.05)
        async with AsyncPipelineClient(upstream, retry_policy=retry) as client:
            app.state.upstream = client
            yield

    app = FastAPI(lifespan=lifespan)
    app.get("/items/{key}")(get_item)
    return app


def upstream_client(request: Request) -> AsyncPipelineClient:
    """The dependency: the application's one client (connections pooled across requests)."""
    client: AsyncPipelineClient = request.app.state.upstream
    return client


Upstream = Annotated[AsyncPipelineClient, Depends(upstream_client)]


async def get_item(key: str, request: Request, upstream: Upstream) -> dict[str, Any]:
    """Fetch one item; the call's budget is the inbound one (less 50 ms for us), 10 s when none is given."""
    budget = budget_from_headers(request.headers, default=10.0, reserve=0.05)
    async with cancel_on_disconnect(request.receive):
        response = await upstream.get(f"/items/{key}", timeout_budget=budget)
        if response.status_code != 200:
            raise HTTPException(502, f"upstream answered {response.status_code}")
        return {"item": response.json(), "attempts": len(history(response))}
    raise HTTPException(499, "client closed request")  # only reached when the block was cancelled


app = create_app(os.environ.get("UPSTREAM_URL", "http://127.0.0.1:8001"))


def run(upstream: str) -> int:
    """Serve the app on a free port (lifespan on), call it once with the sync client, print, stop."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(upstream), port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        with PipelineClient(f"http://127.0.0.1:{port}") as client:
            response = client.get("/items/fastapi-1", headers={"x-request-timeout": "5"})
        print(f"GET /items/fastapi-1 -> {response.status_code} {response.json()}")
        return 0 if response.status_code == 200 and response.json()["attempts"] == 3 else 1
    finally:
        server.should_exit = True
        thread.join(10)


def main() -> int:
    """Use the upstream given, or start the local flaky one."""
    if len(sys.argv) > 1:
        return run(sys.argv[1])
    with serve(FlakyUpstream()) as url:
        return run(url)


if __name__ == "__main__":
    sys.exit(main())
