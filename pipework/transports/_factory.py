"""The default transport under the chain: httpx's own, with finite, documented limits."""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from .._exceptions import ConfigurationError
from .._redact import redact_url
from ._proxy import proxy_router_from_environment

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
) -> httpx.AsyncBaseTransport:
    """Build the default `httpx.AsyncHTTPTransport` (runs on asyncio and trio).

    Everything environment-derived (CA bundle variables; with `trust_env` and no `proxy`, the proxy
    variables HTTP_PROXY/HTTPS_PROXY/ALL_PROXY/NO_PROXY) is read here, once, never per request. When the
    environment names proxies, the result is a `ProxyRouter` holding one httpx transport per proxy.
    Connection retries are left to the RetryPolicy (the transport's own are 0).

    Raises:
        ImportError: `http2=True` without the `h2` package (install `pipework[http2]`).
        ConfigurationError: `proxy` (or a proxy variable) is not a usable proxy URL (password redacted).
    """
    if http2:
        try:
            import h2  # noqa: F401
        except ImportError as exc:
            raise ImportError("http2=True needs the 'h2' package: pip install 'pipework[http2]'") from exc
    if proxy is None and trust_env:
        context = httpx.create_ssl_context(verify=verify, cert=cert, trust_env=trust_env)

        def build(via: httpx.Proxy | None) -> httpx.AsyncBaseTransport:
            return httpx.AsyncHTTPTransport(
                verify=context, http2=http2, limits=limits, proxy=via, local_address=local_address
            )

        router = proxy_router_from_environment(build)
        if router is not None:
            return router
        return build(None)
    try:
        return httpx.AsyncHTTPTransport(
            verify=verify,
            cert=cert,
            http2=http2,
            limits=limits,
            proxy=proxy,
            trust_env=trust_env,
            local_address=local_address,
        )
    except ValueError:
        if proxy is None:
            raise
        shown = redact_url(proxy.url if isinstance(proxy, httpx.Proxy) else proxy)
        raise ConfigurationError(
            f"proxy {shown!r} is not a usable proxy URL (http, https or socks5)"
        ) from None
