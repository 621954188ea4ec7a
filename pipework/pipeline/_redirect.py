"""RedirectPolicy: follows 3xx responses (RFC 9110) without leaking credentials to another origin.

It sits above the retry policy, so each hop gets its own attempts while every hop shares the call's
context (deadline, per-call options, history). `credentials_allowed(request)` is the helper
authentication policies call before adding a token: it says no for an origin the call was redirected
to unless the client allowed that origin.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import httpx

from .._body import is_replayable
from .._exceptions import ConfigurationError, TooManyRedirectsError
from .._redact import SECRET_HEADERS, redact_url
from ._base import CallNext
from ._context import CONTEXT_KEY, CallContext

__all__ = ["REDIRECT_STATUSES", "RedirectPolicy", "credentials_allowed", "origin_of"]

logger = logging.getLogger("pipework.redirect")

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
"""The statuses followed (304 and 305/306 are not redirects to follow)."""

_DEFAULT_PORTS = {"http": 80, "https": 443}
_BODY_HEADERS = (
    "content-length",
    "transfer-encoding",
    "content-type",
    "content-encoding",
    "content-language",
)


def origin_of(url: httpx.URL) -> str:
    """The origin of `url` as "scheme://host:port", the port always explicit (RFC 6454)."""
    port = url.port or _DEFAULT_PORTS.get(url.scheme, 0)
    host = f"[{url.host}]" if ":" in url.host else url.host
    return f"{url.scheme}://{host}:{port}"


def credentials_allowed(request: httpx.Request) -> bool:
    """May an authentication policy add credentials to `request`?

    True while the call has not been redirected to another origin, and for the call's first origin and
    the origins the RedirectPolicy allows (`allowed_origins`) after that. Cheap: one lookup until a
    cross-origin hop happens.
    """
    ctx = request.extensions.get(CONTEXT_KEY)
    trusted = ctx.trusted_origins if isinstance(ctx, CallContext) else None
    return trusted is None or origin_of(request.url) in trusted


class RedirectPolicy:
    """Follows 301, 302, 303, 307 and 308 responses, up to `max_redirects` hops per call.

    Methods change as browsers (the Fetch standard) and httpx do: 303 turns anything but GET/HEAD into a
    body-less GET; 301/302 turn POST into a body-less GET; 307/308 keep the method and resend the body,
    but only a replayable one (otherwise the 3xx is returned and the log says why). `Location` is resolved
    against the request URL (RFC 3986), keeping the request's fragment when it has none. When a hop
    changes origin (scheme, host or port) the headers in `SECRET_HEADERS` (Authorization, Cookie,
    Proxy-Authorization, API-key headers, ...) and `sensitive_headers` are removed, and
    `credentials_allowed()` tells authentication policies not to add a token for the new origin unless it
    is in `allowed_origins`. An https → http hop is not followed (the 3xx is returned, with a warning)
    unless `allow_insecure`. `follow_redirects` is the default for calls that do not set
    `follow_redirects=`. The followed 3xx responses are closed and kept, oldest first, in the call
    context's `redirects` and the final response's `history`.

    Raises:
        ConfigurationError: (at construction) a bad argument, named in the message.
        TooManyRedirectsError: (from a call) a redirect loop, or more than `max_redirects` hops; carries
            the 3xx responses in `history`.
        httpx.RemoteProtocolError: (from a call) a `Location` header that is not a URL.
    """

    __slots__ = ("_allowed", "_strip", "allow_insecure", "follow_redirects", "max_redirects")

    def __init__(
        self,
        max_redirects: int = 30,
        *,
        allow_insecure: bool = False,
        sensitive_headers: Iterable[str] = (),
        allowed_origins: Iterable[str] = (),
        follow_redirects: bool = True,
    ) -> None:
        if isinstance(max_redirects, bool) or not isinstance(max_redirects, int) or max_redirects < 0:
            raise ConfigurationError(f"max_redirects must be an int >= 0, got {max_redirects!r}")
        if isinstance(sensitive_headers, str) or isinstance(allowed_origins, str):
            raise ConfigurationError(
                "sensitive_headers and allowed_origins take a list of strings, not a str"
            )
        self.max_redirects = max_redirects
        self.allow_insecure = bool(allow_insecure)
        self.follow_redirects = bool(follow_redirects)
        self._strip = frozenset(SECRET_HEADERS | {name.lower() for name in sensitive_headers})
        self._allowed = frozenset(_parse_origin(origin) for origin in allowed_origins)

    @property
    def sensitive_headers(self) -> frozenset[str]:
        """The header names (lower case) removed when a hop changes origin."""
        return self._strip

    @property
    def allowed_origins(self) -> frozenset[str]:
        """Origins besides the call's first one that may receive credentials after a redirect."""
        return self._allowed

    async def __call__(self, request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
        """Send `request`, following redirects as the class docstring says."""
        response = await call_next(request)
        if response.status_code not in REDIRECT_STATUSES:
            return response
        ctx = request.extensions.get(CONTEXT_KEY)
        if not isinstance(ctx, CallContext):
            ctx = request.extensions[CONTEXT_KEY] = CallContext(stream=True)
        follow = self.follow_redirects if ctx.follow_redirects is None else ctx.follow_redirects
        seen = {(request.method, str(request.url))}
        first_origin = origin_of(request.url)
        while response.status_code in REDIRECT_STATUSES and "location" in response.headers:
            next_request, why = self._next_request(request, response)
            response.next_request = next_request
            if why is not None or not follow:
                if why is not None and follow:
                    logger.warning(
                        "Not following redirect %d from [%s] %s: %s",
                        response.status_code,
                        request.method,
                        redact_url(request.url),
                        why,
                    )
                break
            assert next_request is not None
            key = (next_request.method, str(next_request.url))
            if len(ctx.redirects) >= self.max_redirects or key in seen:
                await response.aclose()
                hops = [*ctx.redirects, response]
                what = "a redirect loop" if key in seen else f"more than {self.max_redirects} redirects"
                raise TooManyRedirectsError(
                    f"{what}: [{request.method}] {redact_url(request.url)} after {len(ctx.redirects)} "
                    f"hop(s) redirects to [{next_request.method}] {redact_url(next_request.url)}",
                    request=request,
                    history=hops,
                )
            seen.add(key)
            if ctx.trusted_origins is None and origin_of(next_request.url) != first_origin:
                ctx.trusted_origins = self._allowed | {first_origin}
            await response.aclose()
            ctx.redirects.append(response)
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "Following redirect %d to [%s] %s",
                    response.status_code,
                    next_request.method,
                    redact_url(next_request.url),
                )
            request = next_request
            response = await call_next(request)
        if ctx.redirects:
            response.history = list(ctx.redirects)
        return response

    def _next_request(
        self, request: httpx.Request, response: httpx.Response
    ) -> tuple[httpx.Request | None, str | None]:
        """The request of the next hop, or None and why it is not followed."""
        try:
            url = request.url.join(response.headers["location"])
        except (httpx.InvalidURL, UnicodeError) as exc:
            raise httpx.RemoteProtocolError(
                "the Location header of the redirect is not a valid URL", request=request
            ) from exc
        if url.scheme not in _DEFAULT_PORTS or not url.host:
            return None, "the Location is not an absolute http(s) URL"
        if request.url.fragment and not url.fragment:
            url = url.copy_with(fragment=request.url.fragment)
        status, method = response.status_code, request.method
        if (status == 303 and method not in ("GET", "HEAD")) or (status in (301, 302) and method == "POST"):
            method = "GET"
        headers = request.headers.copy()
        stream = request.stream
        if method != request.method:
            stream = httpx.ByteStream(b"")
            for name in _BODY_HEADERS:
                headers.pop(name, None)
        if origin_of(url) != origin_of(request.url):
            headers["Host"] = url.netloc.decode("ascii")
            for name in self._strip:
                headers.pop(name, None)
        next_request = httpx.Request(
            method, url, headers=headers, stream=stream, extensions=dict(request.extensions)
        )
        if request.url.scheme == "https" and url.scheme == "http" and not self.allow_insecure:
            return next_request, "it downgrades https to http (allow_insecure=False)"
        if method == request.method and not is_replayable(request):
            return next_request, "the request body is a one-shot stream and cannot be sent again"
        return next_request, None

    def __repr__(self) -> str:
        extra = ", allow_insecure=True" if self.allow_insecure else ""
        extra += ", follow_redirects=False" if not self.follow_redirects else ""
        if self._allowed:
            extra += f", allowed_origins={sorted(self._allowed)!r}"
        return f"RedirectPolicy(max_redirects={self.max_redirects}{extra})"


def _parse_origin(origin: str) -> str:
    try:
        url = httpx.URL(origin)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ConfigurationError(f"allowed_origins: {origin!r} is not a URL") from exc
    if url.scheme not in _DEFAULT_PORTS or not url.host or url.raw_path not in (b"", b"/") or url.query:
        raise ConfigurationError(
            f"allowed_origins: {redact_url(url)!r} must be an origin like 'https://host[:port]'"
        )
    return origin_of(url)
