"""Retries: the RetryConfig model, the pure decisions, and the RetryPolicy loop."""

from ._config import DEFAULT_STATUS_CODES, RetryConfig
from ._decisions import (
    IDEMPOTENT_METHODS,
    backoff,
    classify_error,
    classify_response,
    may_retry,
    plan_retry,
    server_wait,
)
from ._policy import RetryPolicy

__all__ = [
    "DEFAULT_STATUS_CODES",
    "IDEMPOTENT_METHODS",
    "RetryConfig",
    "RetryPolicy",
    "backoff",
    "classify_error",
    "classify_response",
    "may_retry",
    "plan_retry",
    "server_wait",
]
