"""DistributedTracingPolicy: OpenTelemetry spans and metrics, one span per call and one child span per attempt.

Two policy objects realise it, because a call and its attempts sit on opposite sides of the retry policy:
`DistributedTracingPolicy` (placed before retry, with the per-call policies) opens the call's span and
records the per-call metrics; its `attempt_policy` (an `AttemptTracingPolicy`, placed after retry, last
before the transport) opens one CLIENT span per attempt as a child of the call's span, injects the W3C
`traceparent` of that attempt span into the request, and records `http.client.request.duration`.
`AsyncPipelineClient(tracing=True)` places both; with `policies=` place `tracing` and `tracing.attempt_policy`.

opentelemetry is imported when a DistributedTracingPolicy is created, never when pipework is imported.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import httpx

from .._exceptions import ConfigurationError
from .._version import __version__
from ..pipeline._base import CallNext
from ._semconv import (
    CALL_DURATION_BUCKETS,
    DURATION_BUCKETS,
    REQUEST_ID,
    call_context,
    error_type,
    protocol_version,
    request_attributes,
    server_attributes,
)

if TYPE_CHECKING:
    from opentelemetry.metrics import Counter, Histogram, MeterProvider
    from opentelemetry.trace import Span, Tracer, TracerProvider

__all__ = ["AttemptTracingPolicy", "DistributedTracingPolicy"]

_SCHEMA_URL = "https://opentelemetry.io/schemas/1.26.0"


class DistributedTracingPolicy:
    """The call's span (kind INTERNAL, named after the method) and per-call metrics; see the module docstring.

    Spans carry `http.request.method`, `url.full` (secrets redacted), `server.address`, `server.port`,
    `http.response.status_code`, `error.type`, `pipework.request_id` (the correlation id); attempt spans
    also `http.request.resend_count` (from the second attempt on, counted across redirects). A span's status
    is ERROR for an error or a status >= 400, described by the error type only (exception messages may
    hold URLs, so exceptions are not recorded as span events). Metrics, when `metrics` is true:
    `http.client.request.duration` per attempt; per call `pipework.client.call.duration` (attribute
    `pipework.outcome`: the last attempt's outcome, e.g. success, rejected, not_sent), `pipework.client.retries`
    and `pipework.client.retry.delay` (the seconds slept between attempts).

    Raises:
        ImportError: opentelemetry-api is not installed (`pip install 'pipework[otel]'`).
    """

    __slots__ = (
        "_call_duration",
        "_error",
        "_internal",
        "_retries",
        "_retry_delay",
        "_tracer",
        "attempt_policy",
    )

    def __init__(
        self,
        *,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        metrics: bool = True,
    ) -> None:
        try:
            from opentelemetry import metrics as otel_metrics
            from opentelemetry import trace
        except ImportError as exc:
            raise ImportError(
                "DistributedTracingPolicy needs opentelemetry-api: pip install 'pipework[otel]'"
            ) from exc
        for name, provider, method in (
            ("tracer_provider", tracer_provider, "get_tracer"),
            ("meter_provider", meter_provider, "get_meter"),
        ):
            if provider is not None and not callable(getattr(provider, method, None)):
                raise ConfigurationError(
                    f"DistributedTracingPolicy {name} must be an OpenTelemetry provider with {method}(), "
                    f"got {type(provider).__name__}"
                )
        self._tracer: Tracer = trace.get_tracer(
            "pipework", __version__, tracer_provider=tracer_provider, schema_url=_SCHEMA_URL
        )
        self._internal = trace.SpanKind.INTERNAL
        self._error = trace.StatusCode.ERROR
        self._call_duration: Histogram | None = None
        self._retries: Counter | None = None
        self._retry_delay: Histogram | None = None
        duration: Histogram | None = None
        if metrics:
            meter = otel_metrics.get_meter(
                "pipework", __version__, meter_provider=meter_provider, schema_url=_SCHEMA_URL
            )
            duration = meter.create_histogram(
                "http.client.request.duration",
                unit="s",
                description="Duration of HTTP client requests.",
                explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
            )
            self._call_duration = meter.create_histogram(
                "pipework.client.call.duration",
                unit="s",
                description="Duration of whole calls: every attempt and every wait between them.",
                explicit_bucket_boundaries_advisory=CALL_DURATION_BUCKETS,
            )
            self._retries = meter.create_counter(
                "pipework.client.retries", unit="{retry}", description="Attempts that were retries."
            )
            self._retry_delay = meter.create_histogram(
                "pipework.client.retry.delay",
                unit="s",
                description="Seconds a call waited between its attempts, in all.",
                explicit_bucket_boundaries_advisory=CALL_DURATION_BUCKETS,
            )
        self.attempt_policy = AttemptTracingPolicy(self._tracer, duration)

    async def __call__(self, request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
        """Run the call inside its span; record the call's metrics when it ends."""
        ctx = call_context(request)
        started = time.perf_counter()
        with self._tracer.start_as_current_span(
            request.method,
            kind=self._internal,
            attributes=request_attributes(request, ctx),
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                response = await call_next(request)
            except Exception as exc:
                kind = error_type(exc)
                _failed(span, self._error, kind)
                self._record(request, None, kind, started)
                raise
            finally:
                if ctx is not None and ctx.request_id is not None:
                    span.set_attribute(REQUEST_ID, ctx.request_id)
            status = response.status_code
            span.set_attribute("http.response.status_code", status)
            if status >= 400:
                _failed(span, self._error, str(status))
            self._record(request, status, None, started)
            return response

    def _record(self, request: httpx.Request, status: int | None, kind: str | None, started: float) -> None:
        if self._call_duration is None or self._retries is None or self._retry_delay is None:
            return
        ctx = call_context(request)
        records = ctx.history if ctx is not None else []
        attributes: dict[str, Any] = server_attributes(request)
        attributes["pipework.outcome"] = records[-1].outcome if records else ("error" if kind else "success")
        if status is not None:
            attributes["http.response.status_code"] = status
        if kind is not None:
            attributes["error.type"] = kind
        self._call_duration.record(time.perf_counter() - started, attributes)
        self._retries.add(max(0, len(records) - 1), attributes)
        self._retry_delay.record(sum(record.delay for record in records), attributes)

    def __repr__(self) -> str:
        return f"DistributedTracingPolicy(metrics={self._call_duration is not None})"


class AttemptTracingPolicy:
    """One CLIENT span per attempt, child of the call's span; injects `traceparent`; records the duration.

    Made by DistributedTracingPolicy (its `attempt_policy`); place it after the retry policy.
    """

    __slots__ = ("_client", "_duration", "_error", "_inject", "_tracer")

    def __init__(self, tracer: Tracer, duration: Histogram | None) -> None:
        from opentelemetry import propagate, trace

        self._tracer = tracer
        self._duration = duration
        self._client = trace.SpanKind.CLIENT
        self._error = trace.StatusCode.ERROR
        self._inject = propagate.inject

    async def __call__(self, request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
        """Send the attempt inside its span, with the span's `traceparent` on the request."""
        ctx = call_context(request)
        attributes = request_attributes(request, ctx)
        attempt = (ctx.attempt or 1) if ctx is not None else 1
        if attempt > 1:
            attributes["http.request.resend_count"] = attempt - 1
        with self._tracer.start_as_current_span(
            request.method,
            kind=self._client,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            self._inject(request.headers)
            started = time.perf_counter()
            metric = server_attributes(request)
            try:
                response = await call_next(request)
            except Exception as exc:
                kind = error_type(exc)
                _failed(span, self._error, kind)
                metric["error.type"] = kind
                if self._duration is not None:
                    self._duration.record(time.perf_counter() - started, metric)
                raise
            status = response.status_code
            span.set_attribute("http.response.status_code", status)
            metric["http.response.status_code"] = status
            version = protocol_version(response)
            if version is not None:
                span.set_attribute("network.protocol.version", version)
                metric["network.protocol.version"] = version
            if status >= 400:
                _failed(span, self._error, str(status))
                metric["error.type"] = str(status)
            if self._duration is not None:
                self._duration.record(time.perf_counter() - started, metric)
            return response

    def __repr__(self) -> str:
        return f"AttemptTracingPolicy(metrics={self._duration is not None})"


def _failed(span: Span, code: Any, kind: str) -> None:
    span.set_attribute("error.type", kind)
    span.set_status(code, kind)
