"""Bad input: wrong types and values for every public constructor and per-call option fail at once, naming the argument.

Table-driven over the public classes in `pipework.__all__`; a meta-test keeps the table complete.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

import pipework
from pipework import (
    AccessToken,
    AdaptiveThrottleConfig,
    AdaptiveThrottlePolicy,
    AsyncPipelineClient,
    AttemptTimeoutConfig,
    AttemptTimeoutPolicy,
    BearerTokenPolicy,
    BulkheadConfig,
    BulkheadPolicy,
    CircuitBreakerConfig,
    CircuitBreakerPolicy,
    ConfigurationError,
    CustomHookPolicy,
    DistributedTracingPolicy,
    HeadersPolicy,
    HedgingConfig,
    HedgingPolicy,
    HttpLoggingPolicy,
    HttpxAuthPolicy,
    KeyCredential,
    KeyCredentialPolicy,
    NetworkTraceLoggingPolicy,
    ObservabilityHooks,
    Pipeline,
    PipelineClient,
    RedirectPolicy,
    RequestIdPolicy,
    ResilienceConfig,
    RetryBudget,
    RetryBudgetConfig,
    RetryConfig,
    RetryPolicy,
    SasCredential,
    SasCredentialPolicy,
    StaticTokenCredential,
    UserAgentPolicy,
)
from pipework.testing import ScriptedTransport

ERRORS = (ConfigurationError, ValidationError, TypeError)
"""What a bad argument raises: ours (a ValueError), pydantic's (a ValueError) or, for a wrong type, a TypeError."""

EXEMPT = {
    "AttemptEvent", "AttemptRecord", "GiveUpEvent", "RetryEvent",  # records pipework builds, never users
    "CallContext", "CallNext", "CallOptions",  # built by the client from the per-call options (tested below)
    "CircuitState",  # an enum
    "Policy", "SansIOPolicy", "TokenCredential",  # protocols and a base class
}  # fmt: skip


class Cred:
    """A token credential."""

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("t", 4_102_444_800)


Case = tuple[str, Callable[[], object], str]
CASES: list[Case] = [
    ("AccessToken", lambda: AccessToken(5, 100), "token"),  # type: ignore[arg-type]
    ("AccessToken", lambda: AccessToken("t", "soon"), "expires_on"),  # type: ignore[arg-type]
    ("AdaptiveThrottleConfig", lambda: AdaptiveThrottleConfig(k=0.5), "k"),
    ("AdaptiveThrottlePolicy", lambda: AdaptiveThrottlePolicy(k="x"), "k"),  # type: ignore[arg-type]
    ("AdaptiveThrottlePolicy", lambda: AdaptiveThrottlePolicy(config={"k": 2}), "config"),  # type: ignore[arg-type]
    ("AsyncPipelineClient", lambda: AsyncPipelineClient("ftp://host"), "base_url"),
    ("AsyncPipelineClient", lambda: AsyncPipelineClient(timeout="fast"), "timeout"),  # type: ignore[arg-type]
    ("AsyncPipelineClient", lambda: AsyncPipelineClient(timeout=-1), "timeout"),
    ("AsyncPipelineClient", lambda: AsyncPipelineClient(retry_policy={"total": 1}), "retry_policy"),  # type: ignore[arg-type]
    ("AsyncPipelineClient", lambda: AsyncPipelineClient(per_call_policies="x"), "per_call_policies"),  # type: ignore[arg-type]
    ("AsyncPipelineClient", lambda: AsyncPipelineClient(per_retry_policies=[5]), "policies"),  # type: ignore[list-item]
    ("AsyncPipelineClient", lambda: AsyncPipelineClient(policies=[object()]), "policies"),  # type: ignore[list-item]
    ("AsyncPipelineClient", lambda: AsyncPipelineClient(transport="http"), "transport"),  # type: ignore[arg-type]
    ("AsyncPipelineClient", lambda: AsyncPipelineClient(headers=5), "headers"),  # type: ignore[arg-type]
    ("AsyncPipelineClient", lambda: AsyncPipelineClient(request_id_header=""), "request_id_header"),
    ("AsyncPipelineClient", lambda: AsyncPipelineClient(application_id=5), "application_id"),  # type: ignore[arg-type]
    ("AsyncPipelineClient", lambda: AsyncPipelineClient(raw_request_hook=5), "raw_request_hook"),  # type: ignore[arg-type]
    ("AsyncPipelineClient", lambda: AsyncPipelineClient(raw_response_hook="f"), "raw_response_hook"),  # type: ignore[arg-type]
    ("AsyncPipelineClient", lambda: AsyncPipelineClient(redirect_policy=30), "redirect_policy"),  # type: ignore[arg-type]
    ("AsyncPipelineClient", lambda: AsyncPipelineClient(limits=10), "limits"),  # type: ignore[arg-type]
    ("AsyncPipelineClient", lambda: AsyncPipelineClient(proxy="ftp://u:p@proxy"), "proxy"),
    ("AsyncPipelineClient", lambda: AsyncPipelineClient(credential="key"), "credential"),
    ("AsyncPipelineClient", lambda: AsyncPipelineClient(credential=Cred(), scopes="s"), "scopes"),
    ("AsyncPipelineClient", lambda: AsyncPipelineClient(logging_policy="on"), "logging_policy"),  # type: ignore[arg-type]
    (
        "AsyncPipelineClient",
        lambda: AsyncPipelineClient(logging_allowed_headers="a"),
        "logging_allowed_headers",
    ),
    ("AsyncPipelineClient", lambda: AsyncPipelineClient(tracing="yes"), "tracing"),  # type: ignore[arg-type]
    ("AsyncPipelineClient", lambda: AsyncPipelineClient(hooks=print), "hooks"),  # type: ignore[arg-type]
    ("AsyncPipelineClient", lambda: AsyncPipelineClient(resilience="maximal"), "resilience"),
    ("AttemptTimeoutConfig", lambda: AttemptTimeoutConfig(timeout=0), "timeout"),
    ("AttemptTimeoutPolicy", lambda: AttemptTimeoutPolicy(timeout=-1), "timeout"),
    ("BearerTokenPolicy", lambda: BearerTokenPolicy("token"), "credential"),  # type: ignore[arg-type]
    ("BearerTokenPolicy", lambda: BearerTokenPolicy(Cred(), 5), "scopes"),  # type: ignore[arg-type]
    ("BearerTokenPolicy", lambda: BearerTokenPolicy(Cred(), refresh_window=-1), "refresh_window"),
    ("BearerTokenPolicy", lambda: BearerTokenPolicy(Cred(), on_challenge=5), "on_challenge"),  # type: ignore[arg-type]
    ("BulkheadConfig", lambda: BulkheadConfig(max_concurrent=0), "max_concurrent"),
    ("BulkheadPolicy", lambda: BulkheadPolicy(max_queued=-1), "max_queued"),
    ("CircuitBreakerConfig", lambda: CircuitBreakerConfig(failure_ratio=2), "failure_ratio"),
    ("CircuitBreakerPolicy", lambda: CircuitBreakerPolicy(minimum_calls=0), "minimum_calls"),
    ("CircuitBreakerPolicy", lambda: CircuitBreakerPolicy(on_state_change=5), "on_state_change"),  # type: ignore[arg-type]
    ("CustomHookPolicy", lambda: CustomHookPolicy(raw_request_hook=5), "raw_request_hook"),  # type: ignore[arg-type]
    ("CustomHookPolicy", lambda: CustomHookPolicy(raw_response_hook="f"), "raw_response_hook"),  # type: ignore[arg-type]
    ("DistributedTracingPolicy", lambda: DistributedTracingPolicy(tracer_provider=5), "tracer_provider"),  # type: ignore[arg-type]
    ("HeadersPolicy", lambda: HeadersPolicy(headers=5), "headers"),  # type: ignore[arg-type]
    ("HedgingConfig", lambda: HedgingConfig(max_hedges=9), "max_hedges"),
    ("HedgingPolicy", lambda: HedgingPolicy(delay=0), "delay"),
    ("HedgingPolicy", lambda: HedgingPolicy(budget=5), "budget"),  # type: ignore[arg-type]
    ("HttpLoggingPolicy", lambda: HttpLoggingPolicy(allowed_headers="x-a"), "allowed_headers"),
    ("HttpLoggingPolicy", lambda: HttpLoggingPolicy(allowed_query_params=5), "allowed_query_params"),  # type: ignore[arg-type]
    ("HttpxAuthPolicy", lambda: HttpxAuthPolicy(("user", "pw")), "auth"),  # type: ignore[arg-type]
    ("KeyCredential", lambda: KeyCredential(""), "key"),
    ("KeyCredential", lambda: KeyCredential(5), "key"),  # type: ignore[arg-type]
    ("KeyCredentialPolicy", lambda: KeyCredentialPolicy("k", "x-api-key"), "credential"),  # type: ignore[arg-type]
    ("KeyCredentialPolicy", lambda: KeyCredentialPolicy(KeyCredential("k"), ""), "header_name"),
    ("KeyCredentialPolicy", lambda: KeyCredentialPolicy(KeyCredential("k"), "x api key"), "header_name"),
    ("KeyCredentialPolicy", lambda: KeyCredentialPolicy(KeyCredential("k"), "x-clé"), "header_name"),
    ("NetworkTraceLoggingPolicy", lambda: NetworkTraceLoggingPolicy(max_body_bytes=-1), "max_body_bytes"),
    ("ObservabilityHooks", lambda: ObservabilityHooks(on_retry=5), "on_retry"),  # type: ignore[arg-type]
    ("Pipeline", lambda: Pipeline("transport"), "transport"),  # type: ignore[arg-type]
    ("Pipeline", lambda: Pipeline(ScriptedTransport(200), [5]), "policies"),  # type: ignore[list-item]
    ("PipelineClient", lambda: PipelineClient("ftp://host"), "base_url"),
    ("PipelineClient", lambda: PipelineClient(timeout="fast"), "timeout"),  # type: ignore[arg-type]
    ("RedirectPolicy", lambda: RedirectPolicy(max_redirects=-1), "max_redirects"),
    ("RedirectPolicy", lambda: RedirectPolicy(allowed_origins=["not an origin"]), "allowed_origins"),
    ("RequestIdPolicy", lambda: RequestIdPolicy(""), "header_name"),
    ("ResilienceConfig", lambda: ResilienceConfig(attempt_timeout=0), "attempt_timeout"),
    ("RetryBudget", lambda: RetryBudget(ratio=-1), "ratio"),
    ("RetryBudgetConfig", lambda: RetryBudgetConfig(window=0), "window"),
    ("RetryConfig", lambda: RetryConfig(total=-1), "total"),
    ("RetryConfig", lambda: RetryConfig(jitter=2), "jitter"),
    ("RetryConfig", lambda: RetryConfig(status_codes=[700]), "status_codes"),
    ("RetryConfig", lambda: RetryConfig(totl=3), "totl"),  # type: ignore[call-arg]
    ("RetryPolicy", lambda: RetryPolicy(retry_total="many"), "retry_total"),  # type: ignore[arg-type]
    ("RetryPolicy", lambda: RetryPolicy(retry_mode="linear"), "retry_mode"),
    ("RetryPolicy", lambda: RetryPolicy({"total": 1}), "config"),  # type: ignore[arg-type]
    ("RetryPolicy", lambda: RetryPolicy(budget=0.2), "budget"),  # type: ignore[arg-type]
    ("SasCredential", lambda: SasCredential(""), "signature"),
    ("SasCredential", lambda: SasCredential("&&"), "signature"),
    ("SasCredentialPolicy", lambda: SasCredentialPolicy("sv=1&sig=x"), "credential"),  # type: ignore[arg-type]
    ("StaticTokenCredential", lambda: StaticTokenCredential(""), "token"),
    ("StaticTokenCredential", lambda: StaticTokenCredential("t", expires_on="later"), "expires_on"),  # type: ignore[arg-type]
    ("UserAgentPolicy", lambda: UserAgentPolicy(application_id=5), "application_id"),  # type: ignore[arg-type]
    ("UserAgentPolicy", lambda: UserAgentPolicy(application_id="has\nnewline"), "application_id"),
]


@pytest.mark.parametrize(
    ("name", "build", "argument"), CASES, ids=[f"{c[0]}-{c[2]}-{i}" for i, c in enumerate(CASES)]
)
def test_bad_argument_is_refused_at_construction(
    name: str, build: Callable[[], object], argument: str
) -> None:
    """Each bad argument raises at construction, and the message names the argument."""
    threads = threading.active_count()
    with pytest.raises(ERRORS) as caught:
        build()
    assert argument in str(caught.value)
    assert threading.active_count() == threads  # PipelineClient: no portal thread left behind


def test_table_covers_every_public_class() -> None:
    """Every public class users construct has at least one row."""
    classes = {
        name
        for name in pipework.__all__
        if inspect.isclass(getattr(pipework, name)) and not issubclass(getattr(pipework, name), BaseException)
    }
    assert classes - EXEMPT - {case[0] for case in CASES} == set()


BAD_OPTIONS: list[tuple[str, object]] = [
    ("retry", {"total": 1}),
    ("retry", 3),
    ("follow_redirects", "no"),
    ("network_trace", "yes"),
    ("raw_request_hook", 5),
    ("raw_response_hook", "f"),
    ("request_id", 5),
    ("request_id", ""),
    ("extras", [1]),
    ("timeout_budget", "5"),
    ("timeout_budget", float("nan")),
    ("retyr", None),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("option", "value"), BAD_OPTIONS)
async def test_bad_per_call_option_fails_before_sending(option: str, value: object) -> None:
    """A bad per-call option raises when the call starts, naming it; nothing reaches the transport."""
    transport = ScriptedTransport(200, repeat_last=True)
    async with AsyncPipelineClient(transport=transport) as client:
        with pytest.raises(ERRORS) as caught:
            await client.get("http://service.test/", **{option: value})  # type: ignore[arg-type]
        assert option in str(caught.value)
        response = await client.get("http://service.test/")  # the client still works
    assert response.status_code == 200
    assert transport.calls == 1


def test_bad_per_call_option_sync() -> None:
    """The sync client refuses it the same way."""
    transport = ScriptedTransport(200, repeat_last=True)
    with (
        PipelineClient(transport=transport) as client,
        pytest.raises(ConfigurationError, match="raw_response_hook"),
    ):
        client.get("http://service.test/", raw_response_hook="f")  # type: ignore[arg-type]
    assert transport.calls == 0
