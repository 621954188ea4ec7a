"""Redaction of secrets in URLs and headers: one place, used by every log line, repr, span and error."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable, Sequence
from urllib.parse import parse_qsl, urlencode

import httpx

__all__ = [
    "REDACTED",
    "SECRET_HEADERS",
    "SECRET_QUERY_PARAMS",
    "URL_HEADERS",
    "is_secret_param",
    "redact_body",
    "redact_headers",
    "redact_url",
    "scrub_protocol_error",
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

URL_HEADERS = frozenset({"location", "content-location", "referer"})
"""Header names (lower case) whose values are URLs: shown through `redact_url`."""

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
        elif lower in URL_HEADERS:  # a redirect to a signed URL carries its signature
            value = redact_url(value)
        shown[name] = f"{shown[name]}, {value}" if name in shown else value
    return shown


_BINARY_TYPES = ("image/", "audio/", "video/", "application/octet-stream", "application/zip", "font/")
_PARSE_LIMIT = 1 << 20  # bodies larger than this are not parsed for secrets, so not shown


def redact_body(content: bytes, content_type: str | None, limit: int) -> str:
    """A body as text for a network trace: secret fields of JSON and form bodies redacted, cut at `limit` bytes.

    JSON objects and `application/x-www-form-urlencoded` bodies have the values of secret-named keys
    (`access_token`, `client_secret`, `password`, ...) replaced by REDACTED; binary bodies show their size only.
    """
    size = len(content)
    if not size:
        return ""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind.startswith(_BINARY_TYPES):
        return f"<{size} bytes of {kind}>"
    structured = kind.endswith(("json", "+json")) or kind == "application/x-www-form-urlencoded"
    if structured:
        if size > _PARSE_LIMIT:
            return f"<{size} bytes of {kind}, too large to redact: not shown>"
        text = content.decode("utf-8", errors="replace")
        text = _redact_form(text) if kind == "application/x-www-form-urlencoded" else _redact_json(text)
    else:
        text = content[: limit + 1].decode("utf-8", errors="replace")
    if len(text) > limit:
        return f"{text[:limit]}... ({size} bytes in all)"
    return text


def _redact_form(text: str) -> str:
    pairs = parse_qsl(text, keep_blank_values=True)
    return urlencode([(name, REDACTED if is_secret_param(name) else value) for name, value in pairs])


def _redact_json(text: str) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        return f"<{len(text)} characters of malformed JSON: not shown>"
    return json.dumps(_redact_value(data), ensure_ascii=False)


def _redact_value(value: object) -> object:
    if isinstance(value, dict):
        return {
            key: REDACTED if isinstance(key, str) and is_secret_param(key) else _redact_value(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redact_value(item) for item in value]
    return value


# A bytes or str literal as repr() writes it, possibly inside bytearray(...): how HTTP parsers (h11, aiohttp's)
# quote the header line, value or status line they refused.
# (Not after a letter: the apostrophe of "Can't" opens no literal.)
_LITERAL = re.compile(r"""(?<![A-Za-z0-9])(?:bytearray\()?b?(?:'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")\)?""")
_FIELD = re.compile(r"[-!#$%&*+.^_`|~0-9A-Za-z]+")
_CARET = re.compile(r"\n\s*\^\s*(?=\n|$)")  # aiohttp's pointer line under the quoted input


def _unquote(literal: str) -> bytes | None:
    text = literal[len("bytearray(") : -1] if literal.startswith("bytearray(") else literal
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    return (
        value.encode("latin-1", "replace")
        if isinstance(value, str)
        else value
        if isinstance(value, bytes)
        else None
    )


def _hidden(literal: str, headers: Sequence[tuple[bytes, bytes]]) -> str:
    """What replaces a quoted input: its header name when one can be told, never its value."""
    raw = _unquote(literal)
    if raw is None:
        return REDACTED
    name, colon, _ = raw.partition(b":")
    if colon and _FIELD.fullmatch(name.decode("latin-1").strip()):
        return f"'{name.decode('latin-1').strip()}: {REDACTED}'"  # a header line: the name stays
    for header, value in headers:
        if value == raw:
            return f"'{header.decode('latin-1')}: {REDACTED}'"  # a value the request carried
    return f"{REDACTED} ({len(raw)} bytes)"


def scrub_protocol_error(exc: BaseException, headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    """Hide the input an HTTP parser quotes in its error (a header line or value may carry a token or cookie).

    Rewrites, in place, the message of `exc` and of every exception it was raised from: each quoted literal
    becomes REDACTED (with the header's name when the literal is a header line, or a value of `headers`, the
    request's raw headers); aiohttp's caret lines go too. Nothing else of the message changes.
    """

    def scrubbed(text: str) -> str:
        return _CARET.sub("", _LITERAL.sub(lambda match: _hidden(match.group(0), headers), text))

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if current.args and isinstance(current.args[0], str) and _LITERAL.search(current.args[0]):
            current.args = (scrubbed(current.args[0]), *current.args[1:])
        message = getattr(current, "message", None)  # aiohttp's errors format str() from `.message`
        if isinstance(message, str) and _LITERAL.search(message):
            current.message = scrubbed(message)  # type: ignore[attr-defined]
        current = current.__cause__ or current.__context__
