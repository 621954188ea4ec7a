"""Pipeline: folding order, plain functions, SansIO hooks, sharing, use under httpx, bad policies."""

from __future__ import annotations

import httpx
import pytest

from pipework import CallNext, ConfigurationError, Pipeline, SansIOPolicy
from pipework.testing import ScriptedTransport

pytestmark = pytest.mark.anyio


class Trace:
    """An async policy writing `name>` on the way down and `<name` on the way up into a shared log."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    async def __call__(self, request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
        self.log.append(f"{self.name}>")
        response = await call_next(request)
        self.log.append(f"<{self.name}")
        return response


class SansIOTrace(SansIOPolicy):
    """A SansIO policy tracing all three hooks."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    def on_request(self, request: httpx.Request, /) -> None:
        self.log.append(f"{self.name}>")

    def on_response(self, request: httpx.Request, response: httpx.Response, /) -> None:
        self.log.append(f"<{self.name}")

    def on_exception(self, request: httpx.Request, exc: Exception, /) -> None:
        self.log.append(f"!{self.name}:{type(exc).__name__}")


def _request(url: str = "http://h.test/") -> httpx.Request:
    return httpx.Request("GET", url)


async def test_policies_run_in_order_down_and_reverse_up() -> None:
    """Mixed async and SansIO policies run first-to-last on the request and last-to-first on the response."""
    log: list[str] = []

    async def plain(request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
        log.append("plain>")
        response = await call_next(request)
        log.append("<plain")
        return response

    pipeline = Pipeline(
        ScriptedTransport(200),
        [Trace("a", log), SansIOTrace("b", log), SansIOTrace("c", log), plain, Trace("d", log)],
    )
    response = await pipeline.handle_async_request(_request())
    assert response.status_code == 200
    assert log == ["a>", "b>", "c>", "plain>", "d>", "<d", "<plain", "<c", "<b", "<a"]


async def test_plain_function_policy_changes_request_and_response() -> None:
    """A plain async function is a policy: it may edit the request and replace the response."""

    async def tag(request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
        request.headers["x-tag"] = "1"
        response = await call_next(request)
        return httpx.Response(299, headers={"x-seen": response.request.headers["x-tag"]}, request=request)

    transport = ScriptedTransport(200)
    response = await Pipeline(transport, [tag]).handle_async_request(_request())
    assert transport.requests[0].headers["x-tag"] == "1"
    assert (response.status_code, response.headers["x-seen"]) == (299, "1")


async def test_policy_may_short_circuit_without_calling_next() -> None:
    """A policy that answers itself never reaches the transport."""

    async def cached(request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
        return httpx.Response(203, request=request)

    transport = ScriptedTransport(200)
    response = await Pipeline(transport, [cached]).handle_async_request(_request())
    assert response.status_code == 203
    assert transport.calls == 0


async def test_sansio_on_exception_sees_transport_error_then_it_propagates() -> None:
    """on_exception hooks see the error (innermost first), on_response is skipped, the error propagates."""
    log: list[str] = []
    pipeline = Pipeline(ScriptedTransport(httpx.ConnectError), [SansIOTrace("a", log), SansIOTrace("b", log)])
    request = _request()
    with pytest.raises(httpx.ConnectError) as caught:
        await pipeline.handle_async_request(request)
    assert log == ["a>", "b>", "!b:ConnectError", "!a:ConnectError"]
    assert caught.value.request is request


async def test_sansio_hook_not_overridden_is_skipped() -> None:
    """A SansIO policy overriding only on_response still sees the response."""
    seen: list[int] = []

    class StatusOnly(SansIOPolicy):
        def on_response(self, request: httpx.Request, response: httpx.Response, /) -> None:
            seen.append(response.status_code)

    await Pipeline(ScriptedTransport(204), [StatusOnly()]).handle_async_request(_request())
    assert seen == [204]


async def test_sansio_policy_called_directly_runs_its_hooks() -> None:
    """SansIOPolicy.__call__ (used outside a Pipeline) runs the same hooks around call_next."""
    log: list[str] = []

    async def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("boom", request=request)

    policy = SansIOTrace("s", log)
    with pytest.raises(httpx.ReadError):
        await policy(_request(), boom)
    assert log == ["s>", "!s:ReadError"]


async def test_one_policy_instance_shared_by_two_pipelines_and_concurrent_calls() -> None:
    """A policy object in two pipelines with different transports keeps no request's state across calls."""
    import anyio

    class Echo(SansIOPolicy):
        def on_request(self, request: httpx.Request, /) -> None:
            request.headers["x-echo"] = request.url.path

        def on_response(self, request: httpx.Request, response: httpx.Response, /) -> None:
            response.headers["x-saw"] = request.headers["x-echo"]

    async def slow_answer(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(0.01)  # let the other calls interleave
        return httpx.Response(200, text=request.headers["x-echo"])

    shared = Echo()
    one = ScriptedTransport(slow_answer, repeat_last=True)
    two = ScriptedTransport(slow_answer, repeat_last=True)
    pipelines = {"one": Pipeline(one, [shared]), "two": Pipeline(two, [shared])}
    results: dict[str, tuple[str, str]] = {}

    async def call(which: str, index: int) -> None:
        response = await pipelines[which].handle_async_request(_request(f"http://h.test/{which}/{index}"))
        await response.aread()
        results[f"/{which}/{index}"] = (response.headers["x-saw"], response.text)

    async with anyio.create_task_group() as group:
        for index in range(5):
            group.start_soon(call, "one", index)
            group.start_soon(call, "two", index)
    assert len(results) == 10
    assert all(saw == path and text == path for path, (saw, text) in results.items())
    assert (one.calls, two.calls) == (5, 5)
    assert all(r.url.path.startswith("/one/") for r in one.requests)
    assert all(r.url.path.startswith("/two/") for r in two.requests)


async def test_pipeline_is_a_transport_for_a_plain_httpx_client() -> None:
    """httpx.AsyncClient(transport=Pipeline(...)) runs the policies and reads the body."""

    class Stamp(SansIOPolicy):
        def on_request(self, request: httpx.Request, /) -> None:
            request.headers["x-stamp"] = "yes"

    transport = ScriptedTransport(httpx.Response(200, text="hello"))
    async with httpx.AsyncClient(transport=Pipeline(transport, [Stamp()])) as client:
        response = await client.get("http://h.test/x")
    assert response.text == "hello"
    assert transport.requests[0].headers["x-stamp"] == "yes"
    assert transport.closed


async def test_transport_error_carries_the_request() -> None:
    """An httpx error raised without a request gets the request attached at the transport edge."""
    request = _request()
    with pytest.raises(httpx.ConnectError) as caught:
        await Pipeline(ScriptedTransport(httpx.ConnectError("no route")), []).handle_async_request(request)
    assert caught.value.request is request


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (42, "policies[1]"),
        (lambda request, call_next: None, "policies[1]"),
        (object(), "policies[1]"),
    ],
)
def test_bad_policy_is_rejected_naming_its_index(bad: object, expected: str) -> None:
    """Something that is neither a SansIOPolicy nor an async callable is refused at construction."""

    async def fine(request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
        return await call_next(request)

    with pytest.raises(ConfigurationError, match=expected.replace("[", r"\[")):
        Pipeline(ScriptedTransport(200), [fine, bad])  # type: ignore[list-item]


def test_bad_transport_is_rejected() -> None:
    """The transport must be an httpx.AsyncBaseTransport."""
    with pytest.raises(ConfigurationError, match="transport"):
        Pipeline(object(), [])  # type: ignore[arg-type]


def test_repr_lists_the_chain_in_order() -> None:
    """repr(pipeline) names each policy in order, then the transport."""

    async def my_policy(request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
        return await call_next(request)

    pipeline = Pipeline(ScriptedTransport(200), [SansIOPolicy(), my_policy])
    assert repr(pipeline) == (
        "Pipeline(SansIOPolicy() -> test_repr_lists_the_chain_in_order.<locals>.my_policy() -> ScriptedTransport)"
    )
    assert pipeline.policies[1] is my_policy
