"""Redaction on the loggers of httpx and httpcore, whose DEBUG/INFO records can otherwise carry secrets.

httpcore's DEBUG trace writes each response's raw headers (`Set-Cookie`, a `Location` with a signature) on `httpcore.http11` and
`httpcore.http2`; httpx writes every full URL at INFO when a request goes through `httpx.AsyncClient`
(pipework's clients do not, but a Pipeline handed to one does). A logging.Filter on those loggers redacts
both. Filters run only for records that are written, so this costs nothing while those loggers are off.
"""

from __future__ import annotations

import logging
import re

import httpx

from .._redact import REDACTED, SECRET_HEADERS, URL_HEADERS, is_secret_param, redact_url

__all__ = ["DependencyLogRedactor", "install_dependency_log_redaction"]

LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)

# a header pair as httpcore formats it: (b'name', b'value'), either quote style
_PAIR = re.compile(
    r"""\(b(?P<q1>['"])(?P<name>[A-Za-z0-9!#$%&*+.^_`|~-]+)(?P=q1),\s*b(?P<q2>['"])(?P<value>(?:\\.|(?!(?P=q2)).)*)(?P=q2)\)"""
)


def _redact_pair(match: re.Match[str]) -> str:
    name = match["name"]
    lower = name.lower()
    if lower in SECRET_HEADERS or is_secret_param(lower):
        return f"(b{match['q1']}{name}{match['q1']}, b'{REDACTED}')"
    if lower in URL_HEADERS:  # e.g. a Location holding a signed URL
        return f"(b{match['q1']}{name}{match['q1']}, b'{redact_url(match['value'])}')"
    return match[0]


class DependencyLogRedactor(logging.Filter):
    """Redacts URLs in a record's arguments and secret header values in its message; drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite `record` in place; always keep it."""
        args = record.args
        if isinstance(args, tuple) and any(isinstance(arg, httpx.URL) for arg in args):
            record.args = tuple(redact_url(arg) if isinstance(arg, httpx.URL) else arg for arg in args)
        message = record.msg
        if isinstance(message, str) and "(b" in message:
            record.msg = _PAIR.sub(_redact_pair, message)
        return True

    def __repr__(self) -> str:
        return "DependencyLogRedactor()"


_REDACTOR = DependencyLogRedactor()


def install_dependency_log_redaction() -> None:
    """Put the redacting filter on httpx's and httpcore's loggers (once; idempotent)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _REDACTOR not in logger.filters:
            logger.addFilter(_REDACTOR)
