"""How AsyncPipelineClient's observability arguments become policies, and where they go in the chain."""

from __future__ import annotations

from collections.abc import Iterable

from .._exceptions import ConfigurationError
from ..pipeline._base import Policy
from ._dependency_logs import install_dependency_log_redaction
from ._hooks import ObservabilityHooks
from ._http_logging import HttpLoggingPolicy
from ._network_trace import NetworkTraceLoggingPolicy
from ._tracing import DistributedTracingPolicy

__all__ = ["observability_policies"]


def observability_policies(
    *,
    default_chain: bool,
    logging_policy: HttpLoggingPolicy | None,
    network_trace: bool,
    logging_allowed_headers: Iterable[str],
    logging_allowed_query_params: Iterable[str],
    request_id_header: str,
    tracing: bool | DistributedTracingPolicy,
    hooks: ObservabilityHooks | None,
) -> tuple[list[Policy], list[Policy]]:
    """The policies observing each call (placed before retry) and each attempt (placed last).

    Also puts the redacting filter on httpx's and httpcore's loggers (idempotent).
    Per attempt: HTTP logging, network trace logging, then the attempt halves of tracing and hooks.
    With `policies=` (`default_chain` false) only tracing and hooks are added; logging arguments then
    raise, since the caller's list replaces the default logging policies.

    Raises:
        ConfigurationError: a bad or conflicting argument (named).
        ImportError: `tracing=True` without opentelemetry installed.
    """
    if logging_policy is not None and not isinstance(logging_policy, HttpLoggingPolicy):
        raise ConfigurationError(
            f"logging_policy must be an HttpLoggingPolicy, got {type(logging_policy).__name__}"
        )
    allowed_headers = tuple(_names("logging_allowed_headers", logging_allowed_headers))
    allowed_params = tuple(_names("logging_allowed_query_params", logging_allowed_query_params))
    if logging_policy is not None and (allowed_headers or allowed_params):
        raise ConfigurationError(
            "logging_allowed_headers/logging_allowed_query_params configure the default logging policy; "
            "with logging_policy= give them to HttpLoggingPolicy(allowed_headers=..., allowed_query_params=...)"
        )
    if not default_chain and (
        logging_policy is not None or network_trace or allowed_headers or allowed_params
    ):
        raise ConfigurationError(
            "logging_policy/network_trace/logging_allowed_* configure the default chain; "
            "with policies= put HttpLoggingPolicy(...) and NetworkTraceLoggingPolicy(...) in the list"
        )
    if isinstance(tracing, bool):
        tracer = DistributedTracingPolicy() if tracing else None
    elif isinstance(tracing, DistributedTracingPolicy):
        tracer = tracing
    else:
        raise ConfigurationError(
            f"tracing must be a bool or a DistributedTracingPolicy, got {type(tracing).__name__}"
        )
    if hooks is not None and not isinstance(hooks, ObservabilityHooks):
        raise ConfigurationError(f"hooks must be an ObservabilityHooks, got {type(hooks).__name__}")
    install_dependency_log_redaction()
    per_call: list[Policy] = []
    per_attempt: list[Policy] = []
    if default_chain:
        per_attempt.append(
            logging_policy
            or HttpLoggingPolicy(
                allowed_headers=(request_id_header, *allowed_headers), allowed_query_params=allowed_params
            )
        )
        per_attempt.append(NetworkTraceLoggingPolicy(enabled=bool(network_trace)))
    if tracer is not None:
        per_call.append(tracer)
        per_attempt.append(tracer.attempt_policy)
    if hooks is not None:
        per_call.append(hooks)
        per_attempt.append(hooks.attempt_policy)
    return per_call, per_attempt


def _names(argument: str, names: Iterable[str]) -> list[str]:
    if isinstance(names, str | bytes) or not isinstance(names, Iterable):
        raise ConfigurationError(f"{argument} must be an iterable of header/parameter names, got {names!r}")
    return list(names)
