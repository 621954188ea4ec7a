"""The default transport under the chain: httpx's own, with finite, documented limits."""

from __future__ import annotations

import ssl
from typing import Any

import httpx

__all__ = ["DEFAULT_LIMITS", "DEFAULT_TIMEOUT", "create_transport"]

DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=60.0, pool=10.0)
"""Per attempt: 10 s to connect or get a pooled connection, 60 s between bytes read or written.
The whole call is bounded separately by RetryConfig.timeout (120 s by default)."""

DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)
"""httpx's own defaults: 100 connections per transport, 20 kept alive for 5 s."""


def create_transport(
    *,
    limits: httpx.Limits = DEFAULT_LIMITS,
    verify: ssl.SSLContext | str | bool = True,
    cert: Any = None,
    http2: bool = False,
    proxy: httpx.Proxy | str | httpx.URL | None = None,
    trust_env: bool = True,
    local_address: str | None = None,
) -> httpx.AsyncHTTPTransport:
    """Build the default `httpx.AsyncHTTPTransport` (runs on asyncio and trio).

    Everything environment-derived (CA bundle variables) is read here, once, never per request.
    Connection retries are left to the RetryPolicy (the transport's own are 0).

    Raises:
        ImportError: `http2=True` without the `h2` package (install `pipework[http2]`).
    """
    if http2:
        try:
            import h2  # noqa: F401
        except ImportError as exc:
            raise ImportError("http2=True needs the 'h2' package: pip install 'pipework[http2]'") from exc
    return httpx.AsyncHTTPTransport(
        verify=verify,
        cert=cert,
        http2=http2,
        limits=limits,
        proxy=proxy,
        trust_env=trust_env,
        local_address=local_address,
    )
