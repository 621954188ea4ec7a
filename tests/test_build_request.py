"""build_request's body-less fast path builds exactly the request httpx's general path builds."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pipework import AsyncPipelineClient
from pipework._body import is_replayable

HEADERS: list[Any] = [
    None,
    {"X-Thing": "1", "Accept": "application/json"},
    {"Host": "other.test:8443"},
    {"Content-Length": "0"},
    {"Transfer-Encoding": "chunked"},
    [("X-Dup", "a"), ("x-dup", "b"), ("Authorization", "Bearer t")],
    [(b"X-Raw", b"bytes")],
    httpx.Headers({"X-From": "headers-object"}),
    {"X-Latin": "caf\xe9"},
]


@pytest.mark.parametrize("method", ["GET", "head", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
@pytest.mark.parametrize("headers", HEADERS)
@pytest.mark.parametrize("url", ["/items/42", "https://abs.test:8443/p?q=1#f", "relative/path?x=%20y"])
def test_fast_path_equals_httpx(method: str, headers: Any, url: str) -> None:
    """Method, URL, headers (names, order, values), body, stream and extensions match httpx.Request's."""
    client = AsyncPipelineClient("http://base.test/api/")
    try:
        theirs = httpx.Request(
            method, client._merge_url(url), headers=headers, extensions={"timeout": client._timeout}
        )
    except Exception as exc:  # e.g. a non-ASCII str header value: the fast path refuses it the same way
        with pytest.raises(type(exc)):
            client.build_request(method, url, headers=headers)
        return
    ours = client.build_request(method, url, headers=headers)
    assert ours.method == theirs.method
    assert ours.url == theirs.url
    assert ours.headers.raw == theirs.headers.raw
    assert ours.headers.encoding == theirs.headers.encoding
    assert ours.content == theirs.content == b""
    assert type(ours.stream) is type(theirs.stream)
    assert list(ours.stream) == list(theirs.stream)
    assert ours.extensions == theirs.extensions
    assert is_replayable(ours)


def test_fast_path_requests_do_not_share_state() -> None:
    """Two requests built alike have their own headers and extensions (a policy may change one)."""
    client = AsyncPipelineClient("http://base.test/")
    first, second = client.build_request("GET", "/x"), client.build_request("GET", "/x")
    first.headers["X-Only-First"] = "1"
    first.extensions["mine"] = True
    assert "x-only-first" not in second.headers
    assert "mine" not in second.extensions


def test_per_request_timeout_on_the_fast_path() -> None:
    """timeout= still sets the request's per-attempt timeouts."""
    client = AsyncPipelineClient("http://base.test/")
    request = client.build_request("GET", "/x", timeout=3.0)
    assert request.extensions["timeout"] == httpx.Timeout(3.0).as_dict()


def test_a_body_or_params_takes_httpx_general_path() -> None:
    """content/json/params requests are built by httpx itself (Content-Length, query) as before."""
    client = AsyncPipelineClient("http://base.test/")
    posted = client.build_request("POST", "/x", json={"a": 1})
    assert posted.headers["content-length"] == str(len(posted.content))
    assert posted.headers["content-type"] == "application/json"
    assert client.build_request("GET", "/x", params={"q": "1"}).url.query == b"q=1"
    assert client.build_request("PUT", "/x", content=b"abc").content == b"abc"
