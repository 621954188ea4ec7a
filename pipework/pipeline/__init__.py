"""The chain: the Policy protocol, SansIOPolicy, Pipeline, the call context, and the built-in policies."""

from ._base import CallNext, Policy, SansIOPolicy
from ._context import CONTEXT_KEY, AttemptRecord, CallContext, CallOptions, Outcome, context_of, history
from ._custom_hook import CustomHookPolicy
from ._headers import HeadersPolicy
from ._pipeline import Pipeline
from ._redirect import RedirectPolicy, credentials_allowed
from ._request_id import RequestIdPolicy
from ._user_agent import UserAgentPolicy
from .retry import RetryConfig, RetryPolicy

__all__ = [
    "CONTEXT_KEY",
    "AttemptRecord",
    "CallContext",
    "CallNext",
    "CallOptions",
    "CustomHookPolicy",
    "HeadersPolicy",
    "Outcome",
    "Pipeline",
    "Policy",
    "RedirectPolicy",
    "RequestIdPolicy",
    "RetryConfig",
    "RetryPolicy",
    "SansIOPolicy",
    "UserAgentPolicy",
    "context_of",
    "credentials_allowed",
    "history",
]
