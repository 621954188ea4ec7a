"""How a client's arguments become its chain: the default policies in the reference page's order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from ._exceptions import ConfigurationError
from ._redact import redact_url
from .auth import policy_for_credential
from .pipeline import (
    CustomHookPolicy,
    HeadersPolicy,
    Policy,
    RedirectPolicy,
    RequestIdPolicy,
    RetryPolicy,
    UserAgentPolicy,
)
from .pipeline._custom_hook import RequestHook, ResponseHook

__all__ = ["base_url_of", "default_policies", "place_around_retry"]


def base_url_of(base_url: httpx.URL | str | None) -> httpx.URL | None:
    """The validated base URL, ending in "/" so relative paths merge below it.

    Raises:
        ConfigurationError: not an absolute http(s) URL.
    """
    if base_url is None:
        return None
    try:
        url = httpx.URL(base_url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ConfigurationError(f"base_url is not a valid URL: {exc}") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(f"base_url must be an absolute http(s) URL, got {redact_url(url)!r}")
    return url if url.raw_path.endswith(b"/") else url.copy_with(raw_path=url.raw_path + b"/")


def default_policies(
    *,
    credential: Any,
    scopes: Sequence[str],
    retry_policy: RetryPolicy,
    per_call_policies: Sequence[Policy],
    per_retry_policies: Sequence[Policy],
    headers: Mapping[str, str] | None,
    request_id_header: str,
    application_id: str | None,
    raw_request_hook: RequestHook | None,
    raw_response_hook: ResponseHook | None,
    follow_redirects: bool,
    redirect_policy: RedirectPolicy | None = None,
    observe_calls: Sequence[Policy] = (),
    observe_attempts: Sequence[Policy] = (),
) -> list[Policy]:
    """The reference page's order; each slot below is filled by its own module."""
    chain: list[Policy | None] = [
        RequestIdPolicy(request_id_header),
        HeadersPolicy(headers),
        UserAgentPolicy(application_id),
        *observe_calls,  # opt-in: the call's span and metrics, giveup hooks
        *per_call_policies,
        redirect_policy or RedirectPolicy(follow_redirects=follow_redirects),
        retry_policy,
        *per_retry_policies,
        policy_for_credential(credential, scopes),  # authentication: chosen by the credential's type
        CustomHookPolicy(raw_request_hook, raw_response_hook),
        *observe_attempts,  # logging, network trace logging, opt-in per-attempt tracing and hooks
    ]
    return [policy for policy in chain if policy is not None]


def place_around_retry(
    policies: list[Policy], per_call: Sequence[Policy], per_retry: Sequence[Policy]
) -> list[Policy]:
    """`policies` with `per_call` just before its RetryPolicy and `per_retry` just after (appended if none)."""
    for index, policy in enumerate(policies):
        if isinstance(policy, RetryPolicy):
            return [*policies[:index], *per_call, policy, *per_retry, *policies[index + 1 :]]
    return [*policies, *per_call, *per_retry]
