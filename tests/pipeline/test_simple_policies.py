"""RequestIdPolicy, HeadersPolicy, UserAgentPolicy and CustomHookPolicy, seen at the transport."""

from __future__ import annotations

import platform
import re
import uuid

import httpx
import pytest

from pipework import (
    AsyncPipelineClient,
    ConfigurationError,
    CustomHookPolicy,
    HeadersPolicy,
    RequestIdPolicy,
    UserAgentPolicy,
    __version__,
    context_of,
)
from pipework.testing import ScriptedTransport, VirtualClock

pytestmark = pytest.mark.anyio


# RequestIdPolicy


async def test_request_id_is_one_uuid_per_call_kept_across_retries(clock: VirtualClock) -> None:
    """Every attempt of a call carries the same generated id; the next call gets a new one."""
    transport = ScriptedTransport(503, 200, 200)
    async with AsyncPipelineClient(transport=transport) as client:
        first = await client.get("http://h.test/")
        second = await client.get("http://h.test/")
    ids = [request.headers["x-ms-client-request-id"] for request in transport.requests]
    assert ids[0] == ids[1] != ids[2]
    assert uuid.UUID(ids[0]).version == 4
    assert context_of(first).request_id == ids[0]  # type: ignore[union-attr]
    assert context_of(second).request_id == ids[2]  # type: ignore[union-attr]


async def test_request_id_option_wins_and_is_kept_across_retries(clock: VirtualClock) -> None:
    """request_id= is sent on every attempt, even over a header the caller also set."""
    transport = ScriptedTransport(500, 200)
    async with AsyncPipelineClient(transport=transport) as client:
        await client.get("http://h.test/", request_id="mine-1", headers={"x-ms-client-request-id": "hdr"})
    assert [r.headers["x-ms-client-request-id"] for r in transport.requests] == ["mine-1", "mine-1"]


async def test_request_id_header_given_by_caller_wins(clock: VirtualClock) -> None:
    """A caller-set id header is kept (not replaced) on every attempt and recorded in the context."""
    transport = ScriptedTransport(503, 200)
    async with AsyncPipelineClient(transport=transport) as client:
        response = await client.get("http://h.test/", headers={"x-ms-client-request-id": "caller-7"})
    assert [r.headers["x-ms-client-request-id"] for r in transport.requests] == ["caller-7", "caller-7"]
    assert context_of(response).request_id == "caller-7"  # type: ignore[union-attr]


async def test_request_id_header_name_is_configurable() -> None:
    """request_id_header= changes the header; the default one is then not sent."""
    transport = ScriptedTransport(200)
    async with AsyncPipelineClient(transport=transport, request_id_header="x-request-id") as client:
        await client.get("http://h.test/")
    headers = transport.requests[0].headers
    assert uuid.UUID(headers["x-request-id"])
    assert "x-ms-client-request-id" not in headers


async def test_request_id_policy_without_a_context_still_sets_an_id() -> None:
    """Under a plain httpx client (no call context) each request still gets an id, a given one is kept."""
    from pipework import Pipeline

    transport = ScriptedTransport(200, repeat_last=True)
    async with httpx.AsyncClient(transport=Pipeline(transport, [RequestIdPolicy("x-id")])) as client:
        await client.get("http://h.test/")
        await client.get("http://h.test/", headers={"x-id": "given"})
    assert uuid.UUID(transport.requests[0].headers["x-id"])
    assert transport.requests[1].headers["x-id"] == "given"


def test_request_id_policy_rejects_empty_header_name() -> None:
    """An empty header name is a ConfigurationError naming header_name."""
    with pytest.raises(ConfigurationError, match="header_name"):
        RequestIdPolicy("")


# HeadersPolicy


async def test_default_headers_added_and_per_call_headers_win() -> None:
    """Client headers reach the wire; a per-call header of the same name replaces the default."""
    transport = ScriptedTransport(200, repeat_last=True)
    async with AsyncPipelineClient(
        transport=transport, headers={"X-Tenant": "t0", "Accept": "x/y"}
    ) as client:
        await client.get("http://h.test/")
        await client.get("http://h.test/", headers={"x-tenant": "t9"})
    first, second = (request.headers for request in transport.requests)
    assert (first["x-tenant"], first["accept"]) == ("t0", "x/y")
    assert (second["x-tenant"], second["accept"]) == ("t9", "x/y")
    assert second.get_list("x-tenant") == ["t9"]


def test_headers_policy_repr_hides_values() -> None:
    """The repr names the headers but never shows their values (they may be keys)."""
    policy = HeadersPolicy({"x-api-key": "s3cr3t"})
    assert "x-api-key" in repr(policy)
    assert "s3cr3t" not in repr(policy)
    assert policy.headers["x-api-key"] == "s3cr3t"


# UserAgentPolicy

UA_FORMAT = re.compile(r"pipework/(\S+) python/(\d+\.\d+\.\d+\S*) \((.+)\)")


async def test_user_agent_format_on_the_wire() -> None:
    """The default User-Agent is `pipework/<version> python/<x.y.z> (<platform>)`."""
    transport = ScriptedTransport(200)
    async with AsyncPipelineClient(transport=transport) as client:
        await client.get("http://h.test/")
    match = UA_FORMAT.fullmatch(transport.requests[0].headers["user-agent"])
    assert match is not None
    assert match.group(1) == __version__
    assert match.group(2) == platform.python_version()
    assert match.group(3) == platform.platform(terse=True)


async def test_user_agent_application_id_prefix_and_env_suffix(monkeypatch: pytest.MonkeyPatch) -> None:
    """application_id goes first, the PIPEWORK_HTTP_USER_AGENT value last."""
    monkeypatch.setenv("PIPEWORK_HTTP_USER_AGENT", "  ci-run/42 ")
    transport = ScriptedTransport(200)
    async with AsyncPipelineClient(transport=transport, application_id="myapp/1.2") as client:
        await client.get("http://h.test/")
    value = transport.requests[0].headers["user-agent"]
    assert value.startswith("myapp/1.2 pipework/")
    assert value.endswith(") ci-run/42")
    assert UA_FORMAT.search(value)


async def test_user_set_user_agent_is_kept() -> None:
    """A User-Agent set by the caller (per call or in client headers) is sent as is."""
    transport = ScriptedTransport(200, repeat_last=True)
    async with AsyncPipelineClient(transport=transport, headers={"User-Agent": "client-ua"}) as client:
        await client.get("http://h.test/")
        await client.get("http://h.test/", headers={"user-agent": "call-ua"})
    assert [r.headers.get_list("user-agent") for r in transport.requests] == [["client-ua"], ["call-ua"]]


@pytest.mark.parametrize("bad", ["", "has space", "x" * 25])
def test_user_agent_bad_application_id(bad: str) -> None:
    """A bad application_id is a ConfigurationError naming it."""
    with pytest.raises(ConfigurationError, match="application_id"):
        UserAgentPolicy(bad)


# CustomHookPolicy


async def test_hooks_client_and_per_call_sync_and_async_on_every_attempt(clock: VirtualClock) -> None:
    """Client hooks then per-call hooks run on each attempt; async hooks are awaited."""
    seen: list[str] = []

    def client_request(request: httpx.Request) -> None:
        seen.append(f"client-req:{request.extensions['pipework'].attempt}")

    async def client_response(response: httpx.Response) -> None:
        seen.append(f"client-resp:{response.status_code}")

    async def call_request(request: httpx.Request) -> None:
        seen.append("call-req")

    def call_response(response: httpx.Response) -> None:
        seen.append(f"call-resp:{response.status_code}")

    transport = ScriptedTransport(503, 200)
    async with AsyncPipelineClient(
        transport=transport, raw_request_hook=client_request, raw_response_hook=client_response
    ) as client:
        await client.get("http://h.test/", raw_request_hook=call_request, raw_response_hook=call_response)
    assert seen == [
        "client-req:1",
        "call-req",
        "client-resp:503",
        "call-resp:503",
        "client-req:2",
        "call-req",
        "client-resp:200",
        "call-resp:200",
    ]


async def test_request_hook_may_edit_the_request_and_its_error_fails_the_call() -> None:
    """A request hook's change reaches the wire; a hook that raises fails the call with its error."""
    transport = ScriptedTransport(200, repeat_last=True)

    def stamp(request: httpx.Request) -> None:
        request.headers["x-hooked"] = "1"

    def broken(response: httpx.Response) -> None:
        raise RuntimeError("hook failed")

    async with AsyncPipelineClient(transport=transport, raw_request_hook=stamp) as client:
        await client.get("http://h.test/")
        with pytest.raises(RuntimeError, match="hook failed"):
            await client.get("http://h.test/", raw_response_hook=broken)
    assert transport.requests[0].headers["x-hooked"] == "1"
    assert transport.calls == 2  # the failing hook's error is not retried


def test_hook_that_is_not_callable_is_rejected() -> None:
    """A non-callable hook is a ConfigurationError naming the argument."""
    with pytest.raises(ConfigurationError, match="raw_response_hook"):
        CustomHookPolicy(raw_response_hook="nope")  # type: ignore[arg-type]


def test_set_header_replaces_as_httpx_does() -> None:
    """set_header: the first entry of the name replaced (any case), later ones dropped, else appended; the
    result is what `headers[name] = value` gives."""
    from pipework.pipeline._headers import set_header

    for given in (
        [],
        [("Accept", "a")],
        [("authorization", "old"), ("Accept", "a"), ("AUTHORIZATION", "older")],
    ):
        ours, theirs = httpx.Headers(given), httpx.Headers(given)
        set_header(ours, b"Authorization", b"authorization", "Bearer new")
        theirs["Authorization"] = "Bearer new"
        assert ours.multi_items() == theirs.multi_items()
        assert ours.get_list("authorization") == ["Bearer new"]
