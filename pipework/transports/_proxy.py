"""Proxies from the environment: a transport that picks, per request, the proxy (or none) for its URL.

The environment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY, upper or lower case) is read once, when the
client is built; one connection pool is built per distinct proxy. Routing happens at the transport edge, so
every request, redirect hop and retry still runs the whole chain above it.
"""

from __future__ import annotations

import contextlib
import ipaddress
import urllib.request
from collections.abc import Callable, Iterable, Mapping

import httpx

from .._exceptions import ConfigurationError
from .._redact import redact_url

__all__ = ["NoProxy", "ProxyRouter", "environment_proxies", "proxy_router_from_environment"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_CACHE_SIZE = 1024

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class NoProxy:
    """A NO_PROXY list: which URLs go direct. Never resolves names; case and a trailing dot are ignored.

    Entries (comma or space separated), as curl, Python's urllib and requests read them:
    `*` (everything); `example.com` or `.example.com` or `*.example.com` (that name and every subdomain,
    never `wwwexample.com`); `example.com:8080` (only that port; default ports count); an IP address,
    IPv6 with or without brackets (`[::1]:8080` with a port); a CIDR block (`10.0.0.0/8`, `fd00::/8`),
    which matches URLs whose host is an address in it.
    """

    __slots__ = ("_addresses", "_all", "_entries", "_names", "_networks")

    def __init__(self, entries: str | Iterable[str] = "") -> None:
        items = entries.replace(" ", ",").split(",") if isinstance(entries, str) else list(entries)
        self._entries = tuple(item.strip() for item in items if item.strip())
        self._all = False
        self._names: list[tuple[str, int | None]] = []
        self._addresses: list[tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int | None]] = []
        self._networks: list[IPNetwork] = []
        for entry in self._entries:
            self._add(entry.lower())

    def _add(self, entry: str) -> None:
        if entry == "*":
            self._all = True
            return
        if "/" in entry:
            with contextlib.suppress(ValueError):  # not a CIDR block: ignored, as curl does
                self._networks.append(ipaddress.ip_network(entry, strict=False))
            return
        host, port = _split_port(entry)
        try:
            self._addresses.append((ipaddress.ip_address(host), port))
        except ValueError:
            name = host.lstrip("*").lstrip(".").rstrip(".")
            if name:
                self._names.append((name, port))

    def matches(self, url: httpx.URL) -> bool:
        """True if `url` must bypass the proxy."""
        if self._all:
            return True
        host = url.host.lower().rstrip(".")
        port = url.port or _DEFAULT_PORTS.get(url.scheme)
        if self._addresses or self._networks:
            address = _address(host)
            if address is not None:
                if any(a == address and p in (None, port) for a, p in self._addresses):
                    return True
                if any(address.version == net.version and address in net for net in self._networks):
                    return True
        return any(
            (host == name or host.endswith("." + name)) and p in (None, port) for name, p in self._names
        )

    @property
    def everything(self) -> bool:
        """True for NO_PROXY=* (no request uses a proxy)."""
        return self._all

    def __bool__(self) -> bool:
        return bool(self._entries)

    def __repr__(self) -> str:
        return f"NoProxy({','.join(self._entries)!r})"


def _split_port(entry: str) -> tuple[str, int | None]:
    if entry.startswith("["):  # [v6] or [v6]:port
        host, _, rest = entry[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") and _is_port(rest[1:]) else None
    if entry.count(":") == 1:
        host, _, port = entry.partition(":")
        if _is_port(port):
            return host, int(port)
    return entry, None


def _is_port(text: str) -> bool:
    return text.isascii() and text.isdigit()  # str.isdigit() alone takes "²", which int() refuses


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not host or not (host[0].isdigit() or ":" in host):
        return None
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def environment_proxies(environ: Mapping[str, str] | None = None) -> tuple[dict[str, httpx.URL], NoProxy]:
    """The proxies per scheme ("http", "https", "all") and the NO_PROXY list, from the environment.

    Read by Python's own `urllib.request.getproxies_environment` (lower case wins; HTTP_PROXY is ignored
    under CGI, the httpoxy fix). A proxy without a scheme is an http:// proxy. NO_PROXY=* means none.

    Raises:
        ConfigurationError: a proxy variable holds something that is not a URL (the value is not shown).
    """
    found = urllib.request.getproxies_environment() if environ is None else _from_mapping(environ)
    no_proxy = NoProxy(found.get("no", ""))
    proxies: dict[str, httpx.URL] = {}
    for scheme in ("http", "https", "all"):
        value = found.get(scheme, "").strip()
        if not value:
            continue
        try:
            proxies[scheme] = httpx.URL(value if "://" in value else f"http://{value}")
        except httpx.InvalidURL:
            raise ConfigurationError(f"{scheme.upper()}_PROXY is not a valid proxy URL") from None
    return proxies, no_proxy


def _from_mapping(environ: Mapping[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in environ.items():  # upper case first, so lower case wins
        if value and name.endswith("_PROXY"):
            found[name[:-6].lower()] = value
    for name, value in environ.items():
        if value and name.endswith("_proxy"):
            found[name[:-6].lower()] = value
    return found


class ProxyRouter(httpx.AsyncBaseTransport):
    """Sends each request through the proxy for its scheme (ALL_PROXY otherwise), or direct per NO_PROXY.

    Holds one transport per distinct proxy, built once; the choice per request is a cached lookup.
    Its repr shows the proxies with their passwords redacted.
    """

    def __init__(
        self,
        direct: httpx.AsyncBaseTransport,
        proxies: Mapping[str, tuple[httpx.URL, httpx.AsyncBaseTransport]],
        no_proxy: NoProxy | None = None,
    ) -> None:
        self._direct = direct
        self._proxies = dict(proxies)
        self._no_proxy = no_proxy or NoProxy()
        self._routes: dict[tuple[str, str, int | None], httpx.AsyncBaseTransport] = {}

    def route(self, url: httpx.URL) -> httpx.AsyncBaseTransport:
        """The transport a request to `url` goes through."""
        key = (url.scheme, url.host, url.port)
        transport = self._routes.get(key)
        if transport is None:
            chosen = self._proxies.get(url.scheme) or self._proxies.get("all")
            transport = self._direct if chosen is None or self._no_proxy.matches(url) else chosen[1]
            if len(self._routes) >= _CACHE_SIZE:
                self._routes.clear()
            self._routes[key] = transport
        return transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` through the transport `route()` picks."""
        return await self.route(request.url).handle_async_request(request)

    async def aclose(self) -> None:
        """Close the direct transport and every proxy's."""
        closed: set[int] = set()
        for transport in [self._direct, *(t for _, t in self._proxies.values())]:
            if id(transport) not in closed:
                closed.add(id(transport))
                await transport.aclose()

    def __repr__(self) -> str:
        shown = ", ".join(f"{scheme}={redact_url(url)!r}" for scheme, (url, _) in self._proxies.items())
        return f"ProxyRouter({shown}, no_proxy={self._no_proxy!r})"


def proxy_router_from_environment(
    build: Callable[[httpx.Proxy | None], httpx.AsyncBaseTransport],
    environ: Mapping[str, str] | None = None,
) -> ProxyRouter | None:
    """A ProxyRouter for the environment's proxies, or None when it names none (or NO_PROXY=*).

    `build(proxy)` makes one transport (None: direct); it is called once per distinct proxy URL.

    Raises:
        ConfigurationError: a proxy variable is not a valid proxy URL.
    """
    proxies, no_proxy = environment_proxies(environ)
    if not proxies or no_proxy.everything:
        return None
    pools: dict[str, httpx.AsyncBaseTransport] = {}
    routes: dict[str, tuple[httpx.URL, httpx.AsyncBaseTransport]] = {}
    for scheme, url in proxies.items():
        key = str(url)
        if key not in pools:
            try:
                pools[key] = build(httpx.Proxy(url))
            except ValueError:
                raise ConfigurationError(
                    f"{scheme.upper()}_PROXY {redact_url(url)!r} is not a usable proxy: scheme {url.scheme!r}"
                ) from None
        routes[scheme] = (url, pools[key])
    return ProxyRouter(build(None), routes, no_proxy)
