"""AsyncPipelineClient: builds the default chain and sends httpx requests through it."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Coroutine, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, Self, Unpack

import httpx

from ._body import bodiless_request, declare_length, request_content
from ._chain import base_url_of, default_policies, place_around_retry
from ._exceptions import ConfigurationError
from ._redact import redact_url
from ._verbs import TimeoutTypes, Verbs, pop_request_parts, same_parameters_as
from .observability import DistributedTracingPolicy, HttpLoggingPolicy, ObservabilityHooks
from .observability._wiring import observability_policies
from .pipeline import (
    CONTEXT_KEY,
    CallContext,
    CallOptions,
    Pipeline,
    Policy,
    RedirectPolicy,
    RetryConfig,
    RetryPolicy,
)
from .pipeline._custom_hook import RequestHook, ResponseHook
from .resilience import ResilienceConfig, resilience_policies
from .transports import DEFAULT_LIMITS, DEFAULT_TIMEOUT, create_transport

__all__ = ["AsyncPipelineClient", "TimeoutTypes"]

_URL_CACHE_SIZE = 1024


class AsyncPipelineClient(Verbs[Coroutine[Any, Any, httpx.Response]]):
    """An async HTTP client whose every request runs through a chain of policies (see DESIGN.md).

    The default chain, outermost first: request id, headers, user agent, *per_call_policies*, redirect,
    retry, *per_retry_policies*, authentication, custom hooks, logging, transport. `policies=` replaces it:
    per_call/per_retry policies are then placed just before/after the RetryPolicy found in it (appended
    in that order when there is none). Requests and responses are httpx's own. `follow_redirects` builds the
    default RedirectPolicy; `redirect_policy=` replaces it (its own `follow_redirects` then applies).
    Logging: HttpLoggingPolicy (INFO on `pipework.http`; `logging_allowed_headers`/`_query_params` extend its
    allowlists, `logging_policy=` replaces it) and NetworkTraceLoggingPolicy (`network_trace=True`, or per call).
    `tracing=True` (or a DistributedTracingPolicy) and `hooks=ObservabilityHooks(...)` add a policy before
    the per-call policies and one after the logging policies; they are off by default.
    `resilience="standard"` (or a ResilienceConfig) builds the RetryPolicy with a retry budget and puts a
    circuit breaker and a per-attempt timeout first among the per-retry policies.

    Raises:
        ConfigurationError: a bad argument, named in the message, at construction (never at the first request).
    """

    def __init__(
        self,
        base_url: httpx.URL | str | None = None,
        *,
        credential: Any = None,
        scopes: Sequence[str] = (),
        retry_policy: RetryPolicy | RetryConfig | None = None,
        per_call_policies: Sequence[Policy] = (),
        per_retry_policies: Sequence[Policy] = (),
        policies: Sequence[Policy] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        request_id_header: str = "x-ms-client-request-id",
        application_id: str | None = None,
        raw_request_hook: RequestHook | None = None,
        raw_response_hook: ResponseHook | None = None,
        follow_redirects: bool = True,
        redirect_policy: RedirectPolicy | None = None,
        limits: httpx.Limits = DEFAULT_LIMITS,
        verify: ssl.SSLContext | str | bool = True,
        http2: bool = False,
        proxy: httpx.Proxy | str | None = None,
        trust_env: bool = True,
        logging_policy: HttpLoggingPolicy | None = None,
        network_trace: bool = False,
        logging_allowed_headers: Iterable[str] = (),
        logging_allowed_query_params: Iterable[str] = (),
        tracing: bool | DistributedTracingPolicy = False,
        hooks: ObservabilityHooks | None = None,
        resilience: str | ResilienceConfig | None = None,
    ) -> None:
        self.base_url = base_url_of(base_url)
        self._urls: dict[str, httpx.URL] = {}
        try:
            self._timeout = httpx.Timeout(timeout).as_dict()
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"timeout: {exc}") from exc
        if any(v is not None and (not isinstance(v, int | float) or v < 0) for v in self._timeout.values()):
            raise ConfigurationError(f"timeout must be seconds >= 0 or None, got {timeout!r}")
        if not isinstance(request_id_header, str) or not request_id_header.strip():
            raise ConfigurationError(
                f"request_id_header must be a non-empty header name, got {request_id_header!r}"
            )
        if isinstance(retry_policy, RetryConfig):
            retry_policy = RetryPolicy(retry_policy)
        elif retry_policy is not None and not isinstance(retry_policy, RetryPolicy):
            raise ConfigurationError(
                f"retry_policy must be a RetryPolicy or a RetryConfig, got {type(retry_policy).__name__}"
            )
        if redirect_policy is not None and not isinstance(redirect_policy, RedirectPolicy):
            raise ConfigurationError(
                f"redirect_policy must be a RedirectPolicy, got {type(redirect_policy).__name__}"
            )
        if not isinstance(limits, httpx.Limits):
            raise ConfigurationError(f"limits must be an httpx.Limits, got {type(limits).__name__}")
        for name, value in (
            ("per_call_policies", per_call_policies),
            ("per_retry_policies", per_retry_policies),
        ):
            if isinstance(value, str | bytes) or not isinstance(value, Sequence):
                raise ConfigurationError(f"{name} must be a sequence of policies, got {type(value).__name__}")
        if resilience is not None:
            if retry_policy is not None or policies is not None:
                raise ConfigurationError(
                    "resilience= builds the RetryPolicy itself: pass it without retry_policy= and policies="
                )
            retry_policy, resilient = resilience_policies(resilience)
            per_retry_policies = [*resilient, *per_retry_policies]
        observe_calls, observe_attempts = observability_policies(
            default_chain=policies is None,
            logging_policy=logging_policy,
            network_trace=network_trace,
            logging_allowed_headers=logging_allowed_headers,
            logging_allowed_query_params=logging_allowed_query_params,
            request_id_header=request_id_header,
            tracing=tracing,
            hooks=hooks,
        )
        if transport is None:
            transport = create_transport(
                limits=limits, verify=verify, http2=http2, proxy=proxy, trust_env=trust_env
            )
        if policies is None:
            chain = default_policies(
                credential=credential,
                scopes=scopes,
                retry_policy=retry_policy or RetryPolicy(),
                per_call_policies=per_call_policies,
                per_retry_policies=per_retry_policies,
                headers=headers,
                request_id_header=request_id_header,
                application_id=application_id,
                raw_request_hook=raw_request_hook,
                raw_response_hook=raw_response_hook,
                follow_redirects=follow_redirects,
                redirect_policy=redirect_policy,
                observe_calls=observe_calls,
                observe_attempts=observe_attempts,
            )
        else:
            chain = place_around_retry(
                list(policies), [*observe_calls, *per_call_policies], per_retry_policies
            )
            chain.extend(observe_attempts)
        self.follow_redirects = follow_redirects
        self._pipeline = Pipeline(transport, chain)

    @property
    def pipeline(self) -> Pipeline:
        """The chain requests run through (its repr lists the policies in order)."""
        return self._pipeline

    def build_request(
        self,
        method: str,
        url: httpx.URL | str,
        *,
        params: Any = None,
        headers: Any = None,
        content: Any = None,
        data: Any = None,
        files: Any = None,
        json: Any = None,
        timeout: TimeoutTypes | None = None,
    ) -> httpx.Request:
        """An httpx.Request against `base_url`, with the client's per-attempt timeouts (or `timeout`)."""
        extensions = {"timeout": self._timeout if timeout is None else httpx.Timeout(timeout).as_dict()}
        if content is None and data is None and files is None and json is None and params is None:
            return bodiless_request(method, self._merge_url(url), headers, extensions)  # the common GET
        merged = self._merge_url(url)
        body = request_content(content) if content is not None else None
        request = httpx.Request(
            method,
            merged,
            params=params,
            headers=headers,
            content=body,
            data=data,
            files=files,
            json=json,
            extensions=extensions,
        )
        declare_length(request, body, headers)
        if params is None:
            request.url = merged  # the cached object (equal to httpx's copy): transports cache by identity
        return request

    def _merge_url(self, url: httpx.URL | str) -> httpx.URL:
        # URLs are immutable and SDKs call the same paths again and again: parsing (and merging with
        # base_url) is two URL parses, cached per text. Bounded: past the bound, new texts are not cached.
        if isinstance(url, str):
            cached = self._urls.get(url)
            if cached is not None:
                return cached
        merged = httpx.URL(url)
        if merged.is_relative_url and self.base_url is not None:
            merged = self.base_url.copy_with(raw_path=self.base_url.raw_path + merged.raw_path.lstrip(b"/"))
        if isinstance(url, str) and len(self._urls) < _URL_CACHE_SIZE:
            self._urls[url] = merged
        return merged

    async def send(
        self, request: httpx.Request, *, stream: bool = False, **options: Unpack[CallOptions]
    ) -> httpx.Response:
        """Send `request` through the pipeline; with `stream=True` the body is left unread (close the response).

        Raises:
            httpx.HTTPError: transport errors after the retries allowed (history attached: `pipework.history(exc)`).
            DeadlineExceededError: the call's deadline passed.
            TypeError: an unknown per-call option.
        """
        request.extensions[CONTEXT_KEY] = CallContext.from_options(stream, options)
        if "timeout" not in request.extensions:
            request.extensions["timeout"] = self._timeout
        return await self._pipeline.handle_async_request(request)

    async def request(
        self,
        method: str,
        url: httpx.URL | str,
        *,
        params: Any = None,
        headers: Any = None,
        content: Any = None,
        data: Any = None,
        files: Any = None,
        json: Any = None,
        timeout: TimeoutTypes | None = None,
        **options: Unpack[CallOptions],
    ) -> httpx.Response:
        """Build and send a request; the body is read. Raises as `send()` does."""
        request = self.build_request(
            method,
            url,
            params=params,
            headers=headers,
            content=content,
            data=data,
            files=files,
            json=json,
            timeout=timeout,
        )
        return await self.send(request, **options)

    @same_parameters_as(request)
    @asynccontextmanager
    async def stream(
        self, method: str, url: httpx.URL | str, **arguments: Any
    ) -> AsyncIterator[httpx.Response]:
        """`async with client.stream("GET", url) as response:` — the body is streamed, closed on exit.

        Takes `request()`'s arguments. Raises as `send()` does.
        """
        request = self.build_request(method, url, **pop_request_parts(arguments))
        response = await self.send(request, stream=True, **arguments)
        try:
            yield response
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        """Close the transport and its connections."""
        await self._pipeline.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        base = redact_url(self.base_url) if self.base_url is not None else None
        return f"{type(self).__name__}(base_url={base!r}, pipeline={self._pipeline!r})"
