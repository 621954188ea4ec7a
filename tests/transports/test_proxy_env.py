"""NO_PROXY and the proxy variables, as tables: which URL goes where."""

from __future__ import annotations

import httpx
import pytest

from pipework import ConfigurationError
from pipework.transports import ScriptedTransport
from pipework.transports._proxy import (
    NoProxy,
    ProxyRouter,
    environment_proxies,
    proxy_router_from_environment,
)

TABLE = [
    # (NO_PROXY, URL, bypass?)
    ("", "http://example.com/", False),
    ("*", "http://example.com/", True),
    ("example.com", "http://example.com/", True),
    ("example.com", "https://www.example.com/x", True),
    ("example.com", "http://wwwexample.com/", False),
    ("example.com", "http://example.com.evil.test/", False),
    (".example.com", "http://www.example.com/", True),
    (".example.com", "http://example.com/", True),
    ("*.example.com", "http://a.b.example.com/", True),
    ("EXAMPLE.com", "http://Example.COM./", True),
    ("example.com:8080", "http://example.com:8080/", True),
    ("example.com:8080", "http://example.com/", False),
    ("example.com:443", "https://example.com/", True),
    ("example.com:443", "http://example.com/", False),
    ("localhost", "http://localhost:3000/", True),
    ("127.0.0.1", "http://127.0.0.1:8000/", True),
    ("127.0.0.1", "http://127.0.0.2/", False),
    ("127.0.0.1:9000", "http://127.0.0.1:8000/", False),
    ("10.0.0.0/8", "http://10.1.2.3/", True),
    ("10.0.0.0/8", "http://11.1.2.3/", False),
    ("10.0.0.0/8", "http://10.example.com/", False),
    ("192.168.1.0/24", "http://192.168.1.77:81/", True),
    ("::1", "http://[::1]:8080/", True),
    ("[::1]", "http://[::1]/", True),
    ("[::1]:8080", "http://[::1]:8080/", True),
    ("[::1]:8080", "http://[::1]:9090/", False),
    ("fd00::/8", "http://[fd12::1]/", True),
    ("fd00::/8", "http://10.0.0.1/", False),
    ("not-a-cidr/99", "http://not-a-cidr/", False),
    ("a.test, b.test ,,c.test", "http://b.test/", True),
    ("a.test b.test", "http://b.test/", True),
    ("a.test", "http://c.test/", False),
    ("example.com:²", "http://example.com/", False),  # not a port (str.isdigit() takes "²"): never raises
    ("[::1]:²", "http://[::1]/", True),
]


@pytest.mark.parametrize(("no_proxy", "url", "bypass"), TABLE)
def test_no_proxy_table(no_proxy: str, url: str, bypass: bool) -> None:
    """Each NO_PROXY form people write matches exactly the URLs curl and urllib would send direct."""
    assert NoProxy(no_proxy).matches(httpx.URL(url)) is bypass


def test_environment_variables_read_lower_case_first() -> None:
    """http_proxy beats HTTP_PROXY; a bare host:port is an http:// proxy; ALL_PROXY is kept for other schemes."""
    proxies, no_proxy = environment_proxies(
        {
            "HTTP_PROXY": "http://upper:1",
            "http_proxy": "lower:3128",
            "ALL_PROXY": "http://all:8",
            "NO_PROXY": "internal.test",
        }
    )
    assert proxies == {"http": httpx.URL("http://lower:3128"), "all": httpx.URL("http://all:8")}
    assert no_proxy.matches(httpx.URL("https://svc.internal.test/"))


def test_bad_proxy_variable_is_a_configuration_error_without_the_secret() -> None:
    """An unusable proxy scheme raises ConfigurationError naming the variable, password redacted."""
    with pytest.raises(ConfigurationError, match="HTTPS_PROXY") as caught:
        proxy_router_from_environment(
            lambda proxy: ScriptedTransport(200), {"HTTPS_PROXY": "ftp://user:hunter2@proxy.test:21"}
        )
    assert "hunter2" not in str(caught.value)


def test_router_routes_per_scheme_and_no_proxy() -> None:
    """HTTPS_PROXY serves https, HTTP_PROXY http, ALL_PROXY the rest; NO_PROXY goes direct; one pool per proxy."""
    built: list[httpx.Proxy | None] = []

    def build(proxy: httpx.Proxy | None) -> ScriptedTransport:
        built.append(proxy)
        return ScriptedTransport(200)

    router = proxy_router_from_environment(
        build,
        {
            "HTTP_PROXY": "http://user:hunter2@p.test:3128",
            "HTTPS_PROXY": "http://user:hunter2@p.test:3128",
            "NO_PROXY": "direct.test,10.0.0.0/8",
        },
    )
    assert isinstance(router, ProxyRouter)
    assert len(built) == 2  # one shared pool for the proxy, one direct
    proxied = router.route(httpx.URL("http://a.test/"))
    direct = router.route(httpx.URL("http://direct.test/"))
    assert proxied is router.route(httpx.URL("https://a.test/"))
    assert direct is router.route(httpx.URL("http://10.9.9.9/"))
    assert proxied is not direct
    assert "hunter2" not in repr(router)
    assert "REDACTED" in repr(router)


def test_no_router_without_proxies_or_with_star() -> None:
    """No proxy variables, or NO_PROXY=*, build the plain transport (no routing cost per request)."""
    assert proxy_router_from_environment(lambda proxy: ScriptedTransport(200), {}) is None
    assert (
        proxy_router_from_environment(
            lambda proxy: ScriptedTransport(200), {"HTTP_PROXY": "http://p.test:1", "NO_PROXY": "*"}
        )
        is None
    )
