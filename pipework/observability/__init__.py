"""Observability: HTTP and network-trace logging, OpenTelemetry spans and metrics, plain callback hooks.

Nothing here imports opentelemetry until a DistributedTracingPolicy is created.
"""

from ._hooks import AttemptEvent, AttemptHooksPolicy, GiveUpEvent, ObservabilityHooks, RetryEvent
from ._http_logging import DEFAULT_ALLOWED_HEADERS, DEFAULT_ALLOWED_QUERY_PARAMS, HttpLoggingPolicy
from ._network_trace import NetworkTraceLoggingPolicy
from ._tracing import AttemptTracingPolicy, DistributedTracingPolicy

__all__ = [
    "DEFAULT_ALLOWED_HEADERS",
    "DEFAULT_ALLOWED_QUERY_PARAMS",
    "AttemptEvent",
    "AttemptHooksPolicy",
    "AttemptTracingPolicy",
    "DistributedTracingPolicy",
    "GiveUpEvent",
    "HttpLoggingPolicy",
    "NetworkTraceLoggingPolicy",
    "ObservabilityHooks",
    "RetryEvent",
]
