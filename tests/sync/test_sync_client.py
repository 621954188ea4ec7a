"""PipelineClient: the async client's behaviours, synchronously (retries, auth, hooks, errors, lifecycle)."""

from __future__ import annotations

import gc
import inspect
import threading
import warnings
from typing import Any

import httpx
import pytest

import pipework
from pipework import (
    AsyncPipelineClient,
    ConfigurationError,
    PipelineClient,
    ResourceNotFoundError,
    RetryConfig,
    _verbs,
    raise_for_status,
)
from pipework.auth import AccessToken, StaticTokenCredential
from pipework.testing import ScriptedTransport, VirtualClock

URL = "https://api.test/"


def test_constructor_takes_exactly_the_async_clients_arguments() -> None:
    """help()/inspect show AsyncPipelineClient's parameters, so new ones appear without editing _sync.py."""
    sync = list(inspect.signature(PipelineClient).parameters)
    async_ = list(inspect.signature(AsyncPipelineClient).parameters)
    assert sync == async_
    assert "retry_policy" in sync


def test_request_and_stream_take_exactly_the_async_request_arguments() -> None:
    """request()/stream() of both clients show one parameter list (AsyncPipelineClient.request's) to help()."""
    expected = list(inspect.signature(AsyncPipelineClient.request).parameters)
    for method in (PipelineClient.request, PipelineClient.stream, AsyncPipelineClient.stream):
        assert list(inspect.signature(method).parameters) == expected
    assert {"params", "content", "timeout", "options"} <= set(expected)
    parts = [name for name in inspect.signature(AsyncPipelineClient.build_request).parameters][3:]
    assert list(_verbs._PARTS) == parts  # what stream() hands build_request, the rest being per-call options


def test_bad_argument_raises_at_construction() -> None:
    """A bad argument is refused by the async client's validation, before any thread starts."""
    before = threading.active_count()
    with pytest.raises(ConfigurationError, match="retry_policy"):
        PipelineClient(retry_policy="three")  # type: ignore[arg-type]
    assert threading.active_count() == before


def test_retries_until_success(clock: VirtualClock) -> None:
    """Two 503s then 200: three attempts, two recorded sleeps (zero-wait works in the loop thread)."""
    transport = ScriptedTransport(503, 503, 200)
    with PipelineClient(URL, transport=transport) as client:
        response = client.get("items")
    assert response.status_code == 200
    assert transport.calls == 3
    assert len(clock.sleeps) == 2
    assert [record.status for record in pipework.history(response)] == [503, 503, 200]


def test_per_call_retry_override(clock: VirtualClock) -> None:
    """`retry=RetryConfig(total=0)` on a call returns the first 503 as is."""
    transport = ScriptedTransport(503, repeat_last=True)
    with PipelineClient(URL, transport=transport) as client:
        response = client.get("items", retry=RetryConfig(total=0))
    assert response.status_code == 503
    assert transport.calls == 1
    assert clock.sleeps == []


def test_transport_error_raised_after_retries_with_history(clock: VirtualClock) -> None:
    """A connect error on every attempt is raised to the caller's thread, with the attempts attached."""
    transport = ScriptedTransport(httpx.ConnectError, repeat_last=True)
    with PipelineClient(URL, transport=transport) as client, pytest.raises(httpx.ConnectError) as caught:
        client.get("items")
    assert transport.calls == 4
    assert len(pipework.history(caught.value)) == 4


def test_post_body_and_raise_for_status(clock: VirtualClock) -> None:
    """The JSON body reaches the transport; raise_for_status maps 404 as for async responses."""
    transport = ScriptedTransport(404)
    with PipelineClient(URL, transport=transport) as client:
        response = client.post("items", json={"a": 1})
    assert transport.bodies == [b'{"a":1}']
    with pytest.raises(ResourceNotFoundError):
        raise_for_status(response)


@pytest.mark.parametrize("verb", ["get", "head", "options", "delete", "post", "put", "patch"])
def test_every_verb_sends_its_method(verb: str) -> None:
    """Each verb helper sends its own method through the pipeline."""
    transport = ScriptedTransport(200)
    with PipelineClient(URL, transport=transport) as client:
        getattr(client, verb)("items")
    assert transport.requests[0].method == verb.upper()
    assert transport.requests[0].url == "https://api.test/items"


def test_send_a_built_request() -> None:
    """build_request + send work as on the async client, headers included."""
    transport = ScriptedTransport(200)
    with PipelineClient(URL, transport=transport, headers={"x-app": "1"}) as client:
        request = client.build_request("PUT", "things/1", content=b"abc")
        response = client.send(request)
    assert response.status_code == 200
    assert transport.bodies == [b"abc"]
    assert transport.requests[0].headers["x-app"] == "1"


def test_sync_hooks_run_and_see_every_attempt(clock: VirtualClock) -> None:
    """Plain (sync) raw hooks, client-wide and per call, see each attempt's request and response."""
    seen: list[str] = []
    transport = ScriptedTransport(500, 200)
    with PipelineClient(
        URL, transport=transport, raw_response_hook=lambda r: seen.append(f"c{r.status_code}")
    ) as client:
        client.get("items", raw_request_hook=lambda r: seen.append(f"req {r.method}"))
    assert seen == ["req GET", "c500", "req GET", "c200"]


def test_static_token_credential_sends_bearer() -> None:
    """A credential given to the sync client authenticates every request on the wire."""
    transport = ScriptedTransport(200, repeat_last=True)
    credential = StaticTokenCredential("sekret")
    with PipelineClient(
        URL, transport=transport, credential=credential, scopes=["api://x/.default"]
    ) as client:
        client.get("a")
        client.get("b")
    assert [r.headers["authorization"] for r in transport.requests] == ["Bearer sekret"] * 2
    assert credential.calls == 1  # cached between calls


def test_blocking_sync_credential_runs_in_a_worker_thread() -> None:
    """A blocking get_token runs off the caller's thread and off the client's loop thread."""
    threads: list[str] = []
    loop_threads: list[str] = []

    class Blocking:
        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            threads.append(threading.current_thread().name)
            return AccessToken("tok", 4_000_000_000)

    transport = ScriptedTransport(200)
    with PipelineClient(
        URL,
        transport=transport,
        credential=Blocking(),
        scopes=["s"],
        raw_request_hook=lambda r: loop_threads.append(threading.current_thread().name),
    ) as client:
        client.get("a")
    assert transport.requests[0].headers["authorization"] == "Bearer tok"
    assert threads[0] not in (threading.current_thread().name, loop_threads[0])


@pytest.mark.anyio
async def test_refused_inside_a_running_event_loop() -> None:
    """Calling the sync client from async code fails fast, naming AsyncPipelineClient."""
    transport = ScriptedTransport(200)
    client = PipelineClient(URL, transport=transport)
    with pytest.raises(RuntimeError, match="AsyncPipelineClient"):
        client.get("items")
    with pytest.raises(RuntimeError, match="AsyncPipelineClient"), client.stream("GET", "items"):
        pass
    assert transport.calls == 0
    client.close()


def test_closed_client_refuses_requests() -> None:
    """After close() (idempotent) a request raises; the transport was closed."""
    transport = ScriptedTransport(200)
    client = PipelineClient(URL, transport=transport)
    client.get("items")
    client.close()
    client.close()
    assert transport.closed
    assert client.is_closed
    with pytest.raises(RuntimeError, match="closed"):
        client.get("items")


def test_close_without_any_request_closes_the_transport() -> None:
    """A client never used starts no thread, and close() still closes its transport."""
    before = threading.active_count()
    transport = ScriptedTransport(200)
    PipelineClient(URL, transport=transport).close()
    assert transport.closed
    assert threading.active_count() == before


def test_forgotten_client_is_stopped_at_collection_with_resource_warning() -> None:
    """A started client dropped without close() warns, closes its transport and stops its thread."""
    before = threading.active_count()
    transport = ScriptedTransport(200)
    client = PipelineClient(URL, transport=transport)
    client.get("items")
    assert threading.active_count() == before + 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del client
        gc.collect()
    assert any(issubclass(w.category, ResourceWarning) and "not closed" in str(w.message) for w in caught)
    assert transport.closed
    assert threading.active_count() == before


def test_repr_redacts_the_base_url() -> None:
    """The repr names the chain and hides secrets in the base URL."""
    client = PipelineClient("https://api.test/?sig=abc123", transport=ScriptedTransport(200))
    text = repr(client)
    client.close()
    assert text.startswith("PipelineClient(")
    assert "RetryPolicy" in text
    assert "abc123" not in text
