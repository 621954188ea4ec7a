"""AsyncPipelineClient: the reference page's custom policy, chain placement, URLs, streaming, arguments, wire."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import httpx
import pytest
import respx

from pipework import (
    AsyncPipelineClient,
    CallNext,
    ConfigurationError,
    CustomHookPolicy,
    DeadlineExceededError,
    HeadersPolicy,
    Pipeline,
    RequestIdPolicy,
    RetryConfig,
    RetryPolicy,
    UserAgentPolicy,
    context_of,
)
from pipework.testing import ScriptedTransport, VirtualClock, serve
from tests._asgi import read_body

pytestmark = pytest.mark.anyio


class CustomTelemetryPolicy:
    """The reference page's custom policy, written async: a header before, a look at the response after."""

    def __init__(self) -> None:
        self.completed: list[str] = []

    async def __call__(self, request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
        request.headers["X-Custom-Telemetry"] = "my-app-v1.0"
        response = await call_next(request)
        self.completed.append(f"Request to {request.url} completed: {response.status_code}")
        return response


async def test_custom_policy_per_call_runs_once_per_call(clock: VirtualClock) -> None:
    """As a per-call policy it runs once for a call retried twice; every attempt carries its header."""
    telemetry = CustomTelemetryPolicy()
    transport = ScriptedTransport(503, 503, 200)
    async with AsyncPipelineClient(
        transport=transport, per_call_policies=[telemetry], per_retry_policies=[]
    ) as client:
        response = await client.get("http://h.test/blob")
    assert response.status_code == 200
    assert telemetry.completed == ["Request to http://h.test/blob completed: 200"]
    assert transport.calls == 3
    assert all(r.headers["x-custom-telemetry"] == "my-app-v1.0" for r in transport.requests)
    assert len(clock.sleeps) == 2


async def test_custom_policy_per_retry_runs_once_per_attempt(clock: VirtualClock) -> None:
    """As a per-retry policy it runs on each of the three attempts and sees each attempt's status."""
    telemetry = CustomTelemetryPolicy()
    transport = ScriptedTransport(503, 503, 200)
    async with AsyncPipelineClient(transport=transport, per_retry_policies=[telemetry]) as client:
        await client.get("http://h.test/blob")
    assert [line.rsplit(" ", 1)[1] for line in telemetry.completed] == ["503", "503", "200"]
    assert transport.calls == 3


def test_default_chain_order_in_the_pipeline_repr() -> None:
    """client.pipeline lists request id, headers, user agent, per-call, retry, per-retry, hooks, transport."""

    async def per_call(request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
        return await call_next(request)

    async def per_retry(request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
        return await call_next(request)

    client = AsyncPipelineClient(
        transport=ScriptedTransport(200), per_call_policies=[per_call], per_retry_policies=[per_retry]
    )
    kinds = [type(p) for p in client.pipeline.policies]
    policies = list(client.pipeline.policies)
    assert kinds[:3] == [RequestIdPolicy, HeadersPolicy, UserAgentPolicy]
    assert policies.index(per_call) == 3
    retry_at = kinds.index(RetryPolicy)
    assert retry_at > 3
    assert policies[retry_at + 1] is per_retry
    assert kinds.index(CustomHookPolicy) > retry_at + 1
    text = repr(client.pipeline)
    names = ["RequestIdPolicy", "HeadersPolicy", "UserAgentPolicy", "per_call", "RetryPolicy", "per_retry"]
    positions = [text.index(name) for name in names]
    assert positions == sorted(positions)
    assert text.endswith("-> ScriptedTransport)")
    assert repr(client.pipeline) in repr(client)


async def test_policies_replace_the_default_chain_with_extras_around_retry(clock: VirtualClock) -> None:
    """policies= is the whole chain; per_call/per_retry are placed before/after its RetryPolicy."""
    order: list[str] = []

    def named(name: str) -> Any:
        async def policy(request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
            order.append(name)
            return await call_next(request)

        return policy

    first, call, retry_after, last = named("first"), named("call"), named("retry"), named("last")
    transport = ScriptedTransport(503, 200)
    async with AsyncPipelineClient(
        transport=transport,
        policies=[first, RetryPolicy(retry_total=1), last],
        per_call_policies=[call],
        per_retry_policies=[retry_after],
    ) as client:
        await client.get("http://h.test/")
    assert order == ["first", "call", "retry", "last", "retry", "last"]
    assert "user-agent" not in transport.requests[0].headers  # the default policies are gone
    assert "x-ms-client-request-id" not in transport.requests[0].headers


async def test_policies_without_retry_get_extras_appended() -> None:
    """Without a RetryPolicy in policies=, per_call then per_retry policies are appended."""
    only = HeadersPolicy({"x-a": "1"})

    async def extra(request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
        return await call_next(request)

    client = AsyncPipelineClient(
        transport=ScriptedTransport(200), policies=[only], per_retry_policies=[extra]
    )
    assert client.pipeline.policies == (only, extra)


async def test_base_url_merging() -> None:
    """Relative URLs join base_url's path (with or without a trailing slash); absolute URLs are kept."""
    transport = ScriptedTransport(200, repeat_last=True)
    async with AsyncPipelineClient("https://api.test/v1", transport=transport) as client:
        await client.get("items/1")
        await client.get("/items/2", params={"q": "x"})
        await client.get("https://other.test/abs")
    assert [str(r.url) for r in transport.requests] == [
        "https://api.test/v1/items/1",
        "https://api.test/v1/items/2?q=x",
        "https://other.test/abs",
    ]


async def test_verbs_send_their_method_and_body() -> None:
    """post/put/patch send their bodies; the other verbs send their method."""
    transport = ScriptedTransport(200, repeat_last=True)
    async with AsyncPipelineClient("http://h.test", transport=transport) as client:
        await client.post("p", json={"a": 1})
        await client.put("p", content=b"raw")
        await client.patch("p", data={"k": "v"})
        for verb in (client.get, client.head, client.options, client.delete):
            await verb("p")
    assert [r.method for r in transport.requests] == [
        "POST", "PUT", "PATCH", "GET", "HEAD", "OPTIONS", "DELETE",
    ]  # fmt: skip
    assert json.loads(transport.bodies[0]) == {"a": 1}
    assert transport.bodies[1:3] == [b"raw", b"k=v"]


class CountingStream(httpx.AsyncByteStream):
    """A response body that counts the chunks pulled from it."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.pulled = 0
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.pulled += 1
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


async def test_stream_does_not_buffer_the_body() -> None:
    """Inside client.stream() no chunk has been read until the caller iterates; the body is closed on exit."""
    body = CountingStream([b"a" * 10, b"b" * 10, b"c" * 10])
    transport = ScriptedTransport(httpx.Response(200, stream=body))
    async with AsyncPipelineClient(transport=transport) as client:
        async with client.stream("GET", "http://h.test/big") as response:
            assert body.pulled == 0
            assert context_of(response).stream is True  # type: ignore[union-attr]
            seen = [len(chunk) async for chunk in response.aiter_raw()]
            assert seen == [10, 10, 10]
        assert body.closed


async def test_non_streamed_call_reads_the_body_and_sets_elapsed() -> None:
    """A plain get() returns a response whose body is already read (and closed) with elapsed set."""
    body = CountingStream([b"x", b"y"])
    async with AsyncPipelineClient(transport=ScriptedTransport(httpx.Response(200, stream=body))) as client:
        response = await client.get("http://h.test/")
    assert response.content == b"xy"
    assert body.closed
    assert response.elapsed.total_seconds() >= 0


async def test_send_stream_true_leaves_the_body_unread() -> None:
    """send(request, stream=True) returns before the body is read."""
    body = CountingStream([b"x"])
    async with AsyncPipelineClient(transport=ScriptedTransport(httpx.Response(200, stream=body))) as client:
        response = await client.send(client.build_request("GET", "http://h.test/"), stream=True)
        assert body.pulled == 0
        assert await response.aread() == b"x"
        await response.aclose()


async def test_unknown_option_on_stream_is_a_type_error() -> None:
    """stream() checks its per-call options too."""
    async with AsyncPipelineClient(transport=ScriptedTransport(200)) as client:
        with pytest.raises(TypeError, match="'bogus'"):
            async with client.stream("GET", "http://h.test/", bogus=1):  # type: ignore[call-arg]
                pass


async def test_retry_option_overrides_for_one_call(clock: VirtualClock) -> None:
    """retry=RetryConfig(total=0) on a call disables retrying for that call only."""
    transport = ScriptedTransport(503, 503, 200)
    async with AsyncPipelineClient(transport=transport) as client:
        first = await client.get("http://h.test/", retry=RetryConfig(total=0))
        second = await client.get("http://h.test/")
    assert (first.status_code, second.status_code, transport.calls) == (503, 200, 3)


async def test_aclose_and_async_with_close_the_transport() -> None:
    """Leaving `async with` closes the transport; aclose() does too."""
    transport = ScriptedTransport(200)
    async with AsyncPipelineClient(transport=transport):
        assert not transport.closed
    assert transport.closed
    other = ScriptedTransport(200)
    await AsyncPipelineClient(transport=other).aclose()
    assert other.closed


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"base_url": "ftp://h.test/"}, "base_url"),
        ({"base_url": "/relative"}, "base_url"),
        ({"timeout": "soon"}, "timeout"),
        ({"retry_policy": 3}, "retry_policy"),
        ({"per_call_policies": "abc"}, "per_call_policies"),
        ({"per_retry_policies": 5}, "per_retry_policies"),
        ({"policies": [HeadersPolicy(), 42]}, r"policies\[1\]"),
        ({"per_call_policies": [object()]}, r"policies\[3\]"),
        ({"application_id": "has space"}, "application_id"),
        ({"request_id_header": ""}, "request_id_header"),
        ({"timeout": -1}, "timeout"),
        ({"raw_request_hook": 7}, "raw_request_hook"),
    ],
)
def test_bad_constructor_argument_is_named(kwargs: dict[str, Any], named: str) -> None:
    """A bad argument fails at construction with a ConfigurationError naming it."""
    with pytest.raises(ConfigurationError, match=named):
        AsyncPipelineClient(transport=ScriptedTransport(200), **kwargs)


def test_retry_config_becomes_the_retry_policy() -> None:
    """retry_policy=RetryConfig(...) is wrapped in the chain's RetryPolicy."""
    config = RetryConfig(total=1)
    client = AsyncPipelineClient(transport=ScriptedTransport(200), retry_policy=config)
    retry = next(p for p in client.pipeline.policies if isinstance(p, RetryPolicy))
    assert retry.config == config


def test_client_repr_redacts_base_url_secrets() -> None:
    """repr(client) shows the base URL without its query secrets, and the chain."""
    client = AsyncPipelineClient("https://api.test/v1?sig=SECRETSIG", transport=ScriptedTransport(200))
    text = repr(client)
    assert "SECRETSIG" not in text
    assert "api.test" in text
    assert isinstance(client.pipeline, Pipeline)


# A real loopback server


async def _echo_headers(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A raw ASGI app answering every request with its headers as JSON."""
    assert scope["type"] == "http"
    await read_body(receive)
    seen = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
    body = json.dumps({"path": scope["path"], "headers": seen}).encode()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    """The echo app served on a free 127.0.0.1 port for this module's tests."""
    with serve(_echo_headers) as url:
        yield url


async def test_default_client_headers_on_the_wire(server_url: str) -> None:
    """Through the real default transport the server sees the request id, user agent and default headers."""
    async with AsyncPipelineClient(server_url, headers={"X-Tenant": "t1"}, application_id="wire/1") as client:
        response = await client.get("echo/me", request_id="req-42")
        other = await client.get("echo/again")
    assert response.status_code == 200
    seen = response.json()["headers"]
    assert response.json()["path"] == "/echo/me"
    assert seen["x-ms-client-request-id"] == "req-42"
    assert seen["x-tenant"] == "t1"
    assert seen["user-agent"].startswith("wire/1 pipework/")
    assert uuid.UUID(other.json()["headers"]["x-ms-client-request-id"]).version == 4
    assert len(pipework_history(response)) == 1


def pipework_history(response: httpx.Response) -> list[int | None]:
    """The statuses of the attempts behind `response`."""
    ctx = context_of(response)
    return [record.status for record in ctx.history] if ctx else []


async def test_hanging_attempt_is_cut_at_the_call_deadline() -> None:
    """An attempt that never ends is cancelled at the call's deadline: DeadlineExceededError, in time."""

    async def hang(request: httpx.Request) -> httpx.Response:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    transport = ScriptedTransport(hang)
    started = time.monotonic()
    async with AsyncPipelineClient(
        transport=transport, retry_policy=RetryConfig(timeout=0.3, total=0)
    ) as client:
        with pytest.raises(DeadlineExceededError):
            await client.get("http://h.test/")
    assert 0.25 <= time.monotonic() - started < 2.0
    assert transport.calls == 1


async def test_default_transport_under_respx(clock: VirtualClock) -> None:
    """With the default httpx transport mocked by respx, a 503 is retried and every attempt carries the id."""
    with respx.mock(assert_all_called=True) as router:
        route = router.get("https://api.test/v1/items").mock(
            side_effect=[httpx.Response(503), httpx.Response(200, json={"ok": True})]
        )
        async with AsyncPipelineClient("https://api.test/v1/") as client:
            response = await client.get("items")
    assert response.json() == {"ok": True}
    assert route.call_count == 2
    ids = {call.request.headers["x-ms-client-request-id"] for call in route.calls}
    assert len(ids) == 1
