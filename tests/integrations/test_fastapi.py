"""FastAPI services on pipework: one client per app (lifespan), inbound budgets, prompt cancellation."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import anyio
import httpx
import pytest
from fastapi import Depends, FastAPI, Request

from pipework import AsyncPipelineClient, history
from pipework.integrations import budget_from_headers, cancel_on_disconnect
from pipework.testing import VirtualClock, serve

from ..sync._app import SyncTestApp


@pytest.fixture(scope="module")
def upstream_app() -> SyncTestApp:
    """The flaky upstream the service calls."""
    return SyncTestApp()


@pytest.fixture(scope="module")
def upstream(upstream_app: SyncTestApp) -> Iterator[str]:
    """The upstream on a free 127.0.0.1 port."""
    with serve(upstream_app) as url:
        yield url


def client_of(request: Request) -> AsyncPipelineClient:
    """The dependency: the app's one client."""
    client: AsyncPipelineClient = request.app.state.client
    return client


Client = Annotated[AsyncPipelineClient, Depends(client_of)]


def make_app(upstream: str, events: dict[str, Any]) -> FastAPI:
    """The documented pattern: the client lives in the lifespan and is injected as a dependency."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncPipelineClient(upstream) as client:
            app.state.client = client
            yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/proxy/{path:path}")
    async def proxy(path: str, request: Request, client: Client) -> dict[str, Any]:
        budget = budget_from_headers(request.headers, reserve=0.05)
        events["started"].set()
        try:
            async with cancel_on_disconnect(request.receive):
                response = await client.get(path, timeout_budget=budget)
                return {"status": response.status_code, "attempts": len(history(response))}
        finally:
            events["ended"] = time.perf_counter()

    return app


@asynccontextmanager
async def service(upstream: str) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Any]]]:
    """The app behind httpx's ASGI transport, its lifespan running."""
    events: dict[str, Any] = {"started": anyio.Event(), "ended": None}
    app = make_app(upstream, events)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            yield client, events


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"x-request-timeout": "2.5"}, 2.45),
        ({"x-request-timeout": " 1 "}, 0.95),
        ({"x-request-timeout": "0.01"}, 0.0),
        ({"x-request-timeout": "soon"}, None),
        ({"x-request-timeout": "-3"}, None),
        ({"x-request-timeout": "inf"}, None),
        ({}, None),
    ],
)
def test_budget_from_headers(headers: dict[str, str], expected: float | None) -> None:
    """The header in seconds less the reserve, never negative; garbage means no bound."""
    budget = budget_from_headers(headers, reserve=0.05)
    assert budget == pytest.approx(expected) if expected is not None else budget is None


def test_budget_default_applies_when_header_missing() -> None:
    """A per-route default budget stands in for a missing header."""
    assert budget_from_headers({}, default=3.0, reserve=1.0) == 2.0
    assert budget_from_headers({"deadline": "4"}, header="deadline") == 4.0


@pytest.mark.anyio
async def test_route_returns_200_after_upstream_retries(
    upstream: str, upstream_app: SyncTestApp, clock: VirtualClock, anyio_backend: str
) -> None:
    """The upstream fails twice (503); the route's call retries and the route answers 200."""
    async with service(upstream) as (client, _):
        response = await client.get(f"/proxy/flaky/fastapi-{anyio_backend}")
    assert response.status_code == 200
    assert response.json() == {"status": 200, "attempts": 3}
    assert upstream_app.counts[f"/flaky/fastapi-{anyio_backend}"] == 3
    assert len(clock.sleeps) == 2


@pytest.mark.anyio
async def test_inbound_budget_bounds_the_outbound_call(
    upstream: str, upstream_app: SyncTestApp, clock: VirtualClock
) -> None:
    """With 0.5 s left inbound, a 10 s Retry-After is not waited: the 503 comes back after one attempt."""
    before = upstream_app.counts["/busy"]
    async with service(upstream) as (client, _):
        response = await client.get("/proxy/busy", headers={"x-request-timeout": "0.5"})
    assert response.json()["status"] == 503
    assert upstream_app.counts["/busy"] - before == 1
    assert clock.sleeps == []


@pytest.mark.anyio
async def test_cancelling_the_inbound_request_stops_the_retry_sleep_promptly(
    upstream: str, upstream_app: SyncTestApp
) -> None:
    """Cancelled mid-sleep (a real 10 s Retry-After wait), the call ends at once (not after the wait), not retried."""
    before = upstream_app.counts["/busy"]
    async with service(upstream) as (client, events), anyio.create_task_group() as group:
        group.start_soon(client.get, "/proxy/busy")
        await events["started"].wait()
        with anyio.fail_after(5):
            while upstream_app.counts["/busy"] == before:  # noqa: ASYNC110 - a count kept by the server thread
                await anyio.sleep(0.01)
        await anyio.sleep(0.2)  # now inside the 10 s sleep before the retry
        cancelled_at = time.perf_counter()
        group.cancel_scope.cancel()
    assert events["ended"] is not None
    assert events["ended"] - cancelled_at < 1.0  # not the 10 s backoff: slack for a loaded runner
    assert upstream_app.counts["/busy"] - before == 1


@pytest.mark.anyio
async def test_cancel_on_disconnect_cancels_the_block_when_the_client_leaves() -> None:
    """An http.disconnect message cancels a long wait inside the block at once; cancelled_caught says so."""
    gone = anyio.Event()

    async def receive() -> dict[str, Any]:
        await gone.wait()
        return {"type": "http.disconnect"}

    async with anyio.create_task_group() as group:
        group.start_soon(lambda: _set_later(gone))
        started = time.perf_counter()
        async with cancel_on_disconnect(receive) as scope:
            await anyio.sleep(10)
    assert scope.cancelled_caught
    assert time.perf_counter() - started < 1


@pytest.mark.anyio
async def test_cancel_on_disconnect_leaves_a_finished_block_alone() -> None:
    """Without a disconnect the block runs to its end and the watcher is stopped."""

    async def receive() -> dict[str, Any]:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    with anyio.fail_after(2):
        async with cancel_on_disconnect(receive) as scope:
            await anyio.sleep(0.01)
    assert not scope.cancelled_caught


async def _set_later(event: anyio.Event) -> None:
    await anyio.sleep(0.05)
    event.set()
