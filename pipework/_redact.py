"""Redaction of secrets in URLs and headers: one place, used by every log line, repr, span and error."""

from __future__ import annotations

from collections.abc import Iterable

import httpx

__all__ = [
    "REDACTED",
    "SECRET_HEADERS",
    "SECRET_QUERY_PARAMS",
    "is_secret_param",
    "redact_headers",
    "redact_url",
]

REDACTED = "REDACTED"

SECRET_QUERY_PARAMS = frozenset(
    {
        "sig", "signature", "token", "access_token", "refresh_token", "id_token", "code", "key", "api_key",
        "apikey", "api-key", "password", "passwd", "pwd", "secret", "client_secret", "auth", "authorization",
        "credential", "credentials", "session", "sessionid", "x-amz-signature", "x-amz-credential",
        "x-amz-security-token", "x-goog-signature", "x-goog-credential", "se", "skoid", "sktid",
    }
)  # fmt: skip
"""Query parameter names (lower case) whose values are never shown, even in network traces."""

SECRET_HEADERS = frozenset(
    {
        "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key",
        "ocp-apim-subscription-key", "x-ms-authorization-auxiliary", "x-functions-key", "x-goog-api-key",
        "x-amz-security-token", "x-csrf-token", "x-xsrf-token",
    }
)  # fmt: skip
"""Header names (lower case) whose values are never shown, even in network traces."""

_SECRET_FRAGMENTS = ("token", "secret", "password", "signature", "apikey", "api_key", "credential")


def is_secret_param(name: str) -> bool:
    """True for a query parameter or header name that carries a secret (by list or by its wording)."""
    lower = name.lower()
    return (
        lower in SECRET_QUERY_PARAMS or lower in SECRET_HEADERS or any(f in lower for f in _SECRET_FRAGMENTS)
    )


def redact_url(url: httpx.URL | str, allowed_params: Iterable[str] | None = None) -> str:
    """The URL as text with its password and secret query values replaced by REDACTED.

    With `allowed_params`, every query value whose name is not in it is redacted too (the logging
    allowlist); secret names are redacted whatever the list says.
    """
    if not isinstance(url, httpx.URL):
        try:
            url = httpx.URL(url)
        except (httpx.InvalidURL, TypeError):
            return REDACTED
    if url.userinfo:  # user:password keeps the user; a lone user part may itself be a token
        url = (
            url.copy_with(username=url.username, password=REDACTED)
            if url.password
            else url.copy_with(username=REDACTED)
        )
    if not url.query:
        return str(url)
    allowed = None if allowed_params is None else {name.lower() for name in allowed_params}
    pairs = []
    changed = False
    for name, value in url.params.multi_items():
        if is_secret_param(name) or (allowed is not None and name.lower() not in allowed):
            pairs.append((name, REDACTED))
            changed = changed or value != REDACTED
        else:
            pairs.append((name, value))
    if not changed:
        return str(url)
    return str(url.copy_with(params=pairs))


def redact_headers(
    headers: httpx.Headers | Iterable[tuple[str, str]], allowed: Iterable[str] | None = None
) -> dict[str, str]:
    """Headers as a dict, secret values (and, with `allowed`, every value not allowed) replaced by REDACTED."""
    allow = None if allowed is None else {name.lower() for name in allowed}
    items = headers.multi_items() if isinstance(headers, httpx.Headers) else headers
    shown: dict[str, str] = {}
    for name, value in items:
        lower = name.lower()
        if lower in SECRET_HEADERS or is_secret_param(lower) or (allow is not None and lower not in allow):
            value = REDACTED
        shown[name] = f"{shown[name]}, {value}" if name in shown else value
    return shown
