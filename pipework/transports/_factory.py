"""The default transport under the chain: httpx's own, with finite, documented limits."""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from .._exceptions import ConfigurationError
from .._redact import redact_url, scrub_protocol_error
from ._pool import adopt
from ._proxy import proxy_router_from_environment

__all__ = ["DEFAULT_LIMITS", "DEFAULT_TIMEOUT", "create_transport"]

DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=60.0, pool=10.0)
"""Per attempt: 10 s to connect or get a pooled connection, 60 s between bytes read or written.
The whole call is bounded separately by RetryConfig.timeout (120 s by default)."""

DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)
"""httpx's own defaults: 100 connections per transport, 20 kept alive for 5 s."""


class _HTTPTransport(httpx.AsyncHTTPTransport):
    """httpx's transport, with three differences: a cheaper pool, no secret quoted in a protocol error, and
    no error left with an empty message.

    The pool is httpcore's with its per-request bookkeeping done in one pass (`_pool.Pool`). h11 quotes the
    header line or value it refuses ("Illegal header value b'Bearer ...'"): that text is redacted, the
    header's name kept (`scrub_protocol_error`), in the error and in those it was raised from. On trio,
    httpcore reports a failed TLS handshake (an unknown CA, a wrong host name) as `ConnectError('')`: the
    reason sits three causes down. An error without text is given its first cause's,
    "SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] ...", its type unchanged.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        adopt(self._pool)  # httpcore's pool with cheaper bookkeeping (see _pool.py)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except httpx.TransportError as exc:
            if isinstance(exc, httpx.ProtocolError):  # h11 quotes the header line or value it refused
                scrub_protocol_error(exc, request.headers.raw)
            if not str(exc):
                exc.args = (_reason(exc),)
            raise


def _reason(exc: BaseException) -> str:
    """The first non-empty text down the cause chain, after its type's name; else the innermost type's name."""
    cause = exc.__cause__ or exc.__context__
    innermost = type(exc).__name__
    while cause is not None:
        innermost = type(cause).__name__
        if str(cause):
            return f"{innermost}: {cause}"
        cause = cause.__cause__ or cause.__context__
    return innermost


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
    """Build the default transport: an `httpx.AsyncHTTPTransport` (runs on asyncio and trio) with a cheaper pool
    and redacted parser errors (see `_HTTPTransport`).

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
            return _HTTPTransport(
                verify=context, http2=http2, limits=limits, proxy=via, local_address=local_address
            )

        router = proxy_router_from_environment(build)
        if router is not None:
            return router
        return build(None)
    try:
        return _HTTPTransport(
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
