"""RedirectPolicy against loopback servers: methods, bodies, Location resolution, limits, history."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from pipework import (
    AsyncPipelineClient,
    ConfigurationError,
    RedirectPolicy,
    RetryConfig,
    RetryPolicy,
    TooManyRedirectsError,
    context_of,
    history,
)
from pipework.testing import VirtualClock, serve

from ._redirect_app import RedirectApp

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def app() -> RedirectApp:
    """One recording app for the module."""
    return RedirectApp()


@pytest.fixture(scope="module")
def base(app: RedirectApp) -> Iterator[str]:
    """The app served on a loopback port for the whole module."""
    with serve(app) as url:
        yield url


def to(base: str, status: int, location: str) -> str:
    """A URL on `base` answering `status` with `location`."""
    return f"{base}/to?status={status}&location={quote(location, safe='')}"


def echoed(response: httpx.Response) -> dict[str, Any]:
    """What the echo endpoint received."""
    result: dict[str, Any] = json.loads(response.content)
    return result


METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def expected_method(status: int, method: str) -> str:
    """The Fetch standard's rule: 303 → GET (HEAD stays), 301/302 turn POST into GET, 307/308 keep it."""
    if status == 303 and method not in ("GET", "HEAD"):
        return "GET"
    if status in (301, 302) and method == "POST":
        return "GET"
    return method


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("method", METHODS)
async def test_every_status_and_method(base: str, app: RedirectApp, status: int, method: str) -> None:
    """Each redirect status changes the method and drops the body exactly as the Fetch standard says."""
    async with AsyncPipelineClient() as client:
        before = len(app.seen)
        response = await client.request(
            method, to(base, status, f"/echo/{status}/{method}"), content=b"payload"
        )
        assert response.status_code == 200
        assert [r.status_code for r in response.history] == [status]
        arrived = app.seen[-1]
        assert len(app.seen) - before == 2
        assert arrived["path"] == f"/echo/{status}/{method}"
        assert arrived["method"] == expected_method(status, method)
        if arrived["method"] == method:
            assert arrived["body"] == "payload"
            assert arrived["headers"]["content-length"] == "7"
        else:
            assert arrived["body"] == ""
            assert "content-length" not in arrived["headers"] or arrived["headers"]["content-length"] == "0"


@pytest.mark.parametrize(
    ("location", "path", "query"),
    [
        ("q", "/a/b/q", ""),
        ("../q", "/a/q", ""),
        ("//{host}/q", "/q", ""),
        ("?x", "/a/b/c", "x"),
        ("/abs/q?y=1", "/abs/q", "y=1"),
    ],
)
async def test_relative_locations(base: str, app: RedirectApp, location: str, path: str, query: str) -> None:
    """Location is resolved against the request URL as RFC 3986 section 5 says."""
    host = httpx.URL(base).netloc.decode()
    async with AsyncPipelineClient() as client:
        response = await client.get(f"{base}/a/b/c", headers={"x-location": location.format(host=host)})
    assert [r.status_code for r in response.history] == [302]
    seen = echoed(response)
    assert (seen["path"], seen["query"]) == (path, query)


async def test_max_redirects_raises_with_history(base: str, app: RedirectApp) -> None:
    """31 hops with the default limit of 30 raise TooManyRedirectsError carrying all 31 responses."""
    async with AsyncPipelineClient() as client:
        before = app.counts.total()
        with pytest.raises(TooManyRedirectsError) as caught:
            await client.get(f"{base}/chain/0")
    assert isinstance(caught.value, httpx.TooManyRedirects)
    assert app.counts.total() - before == 31
    assert len(caught.value.history) == 31
    assert [r.status_code for r in caught.value.history] == [302] * 31
    assert all(r.is_closed for r in caught.value.history)
    assert "more than 30 redirects" in str(caught.value)


async def test_max_redirects_setting(base: str, app: RedirectApp) -> None:
    """A lower max_redirects stops earlier; exactly max_redirects hops still succeed."""
    async with AsyncPipelineClient(redirect_policy=RedirectPolicy(2)) as client:
        with pytest.raises(TooManyRedirectsError) as caught:
            await client.get(f"{base}/chain/0")
        assert len(caught.value.history) == 3
        ok = await client.get(to(base, 302, to(base, 302, "/echo")))
        assert ok.status_code == 200
        assert len(ok.history) == 2


async def test_loop_is_detected_at_once(base: str, app: RedirectApp) -> None:
    """A redirect back to a URL already visited raises without waiting for the hop limit."""
    async with AsyncPipelineClient() as client:
        before = app.counts["/loop"]
        with pytest.raises(TooManyRedirectsError, match="loop"):
            await client.get(f"{base}/loop")
    assert app.counts["/loop"] - before == 1


async def test_follow_redirects_false_per_client_and_per_call(base: str, app: RedirectApp) -> None:
    """follow_redirects=False returns the 3xx (with next_request); the per-call option wins over the client's."""
    url = to(base, 302, "/echo")
    async with AsyncPipelineClient(follow_redirects=False) as client:
        response = await client.get(url)
        assert response.status_code == 302
        assert response.next_request is not None
        assert response.next_request.url.path == "/echo"
        followed = await client.get(url, follow_redirects=True)
        assert followed.status_code == 200
    async with AsyncPipelineClient() as client:
        assert (await client.get(url, follow_redirects=False)).status_code == 302


async def test_history_on_response_and_context(base: str) -> None:
    """The final response exposes the hops in `history` and in its call context's `redirects`."""
    async with AsyncPipelineClient() as client:
        response = await client.get(to(base, 301, to(base, 308, "/echo")))
    assert [r.status_code for r in response.history] == [301, 308]
    ctx = context_of(response)
    assert ctx is not None
    assert ctx.redirects == response.history
    assert [record.status for record in history(response)] == [301, 308, 200]


async def test_per_call_retry_survives_a_hop(base: str, clock: VirtualClock) -> None:
    """A per-call retry= override applies to the hop after a redirect (the client's own allows none)."""
    async with AsyncPipelineClient(retry_policy=RetryPolicy(retry_total=0)) as client:
        key = uuid.uuid4().hex
        refused = await client.get(to(base, 302, f"/flaky/{key}-a"))
        assert refused.status_code == 503
        response = await client.get(to(base, 302, f"/flaky/{key}-b"), retry=RetryConfig(total=3, jitter=0))
    assert response.status_code == 200
    assert [r.status for r in history(response)] == [302, 503, 503, 200]
    assert len(clock.sleeps) == 2


async def test_one_shot_body_on_307_is_not_resent(
    base: str, app: RedirectApp, caplog: pytest.LogCaptureFixture
) -> None:
    """A 307 for an async-iterator upload returns the 307 and logs why, since the body cannot be sent again."""

    async def body() -> AsyncIterator[bytes]:
        yield b"once"

    async with AsyncPipelineClient() as client:
        before = len(app.seen)
        with caplog.at_level(logging.WARNING, logger="pipework.redirect"):
            response = await client.post(to(base, 307, "/echo"), content=body())
    assert response.status_code == 307
    assert len(app.seen) - before == 1
    assert "one-shot" in caplog.text


async def test_one_shot_body_on_303_follows_without_body(base: str, app: RedirectApp) -> None:
    """A 303 turns the one-shot POST into a GET, so it is followed."""

    async def body() -> AsyncIterator[bytes]:
        yield b"once"

    async with AsyncPipelineClient() as client:
        response = await client.post(to(base, 303, "/echo"), content=body())
    assert response.status_code == 200
    assert echoed(response)["method"] == "GET"


async def test_streamed_call_follows_and_closes_hops(base: str) -> None:
    """With stream=True the 3xx bodies are closed and the final body is left for the caller."""
    async with AsyncPipelineClient() as client, client.stream("GET", to(base, 302, "/echo")) as response:
        assert all(r.is_closed for r in response.history)
        assert not response.is_closed
        assert echoed(httpx.Response(200, content=await response.aread()))["path"] == "/echo"


def test_bad_arguments_are_named() -> None:
    """Invalid settings raise ConfigurationError naming the argument."""
    with pytest.raises(ConfigurationError, match="max_redirects"):
        RedirectPolicy(-1)
    with pytest.raises(ConfigurationError, match="allowed_origins"):
        RedirectPolicy(allowed_origins=["https://a.example/path"])
    with pytest.raises(ConfigurationError, match="allowed_origins"):
        RedirectPolicy(allowed_origins="https://a.example")
    assert "allowed_origins=['https://a.example:443']" in repr(
        RedirectPolicy(allowed_origins=["https://a.example"])
    )
