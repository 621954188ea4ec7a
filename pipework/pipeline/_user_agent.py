"""UserAgentPolicy: `[app-id ]pipework/<version> python/<x.y.z> (<platform>)[ <env suffix>]`."""

from __future__ import annotations

import os
import platform

import httpx

from .._exceptions import ConfigurationError
from .._version import __version__
from ._base import SansIOPolicy
from ._headers import add_header, has_header

__all__ = ["UserAgentPolicy"]

USER_AGENT_ENV = "PIPEWORK_HTTP_USER_AGENT"


class UserAgentPolicy(SansIOPolicy):
    """Sets User-Agent on requests that carry none; a User-Agent the caller set is kept as is.

    The value is built once: the optional `application_id` first (an SDK's or app's name/version), then
    pipework's own, then the suffix from the `PIPEWORK_HTTP_USER_AGENT` environment variable (read when the
    policy is built, never per request).

    Raises:
        ConfigurationError: an application_id with whitespace or longer than 24 characters (as Azure's).
    """

    __slots__ = ("user_agent",)

    def __init__(self, application_id: str | None = None, *, base: str | None = None) -> None:
        if application_id is not None and (
            not isinstance(application_id, str)
            or not application_id
            or len(application_id) > 24
            or any(c.isspace() for c in application_id)
        ):
            raise ConfigurationError(
                f"UserAgentPolicy application_id must be 1-24 characters without spaces, got {application_id!r}"
            )
        parts = [application_id] if application_id else []
        parts.append(
            base
            or f"pipework/{__version__} python/{platform.python_version()} ({platform.platform(terse=True)})"
        )
        suffix = os.environ.get(USER_AGENT_ENV, "").strip()
        if suffix:
            parts.append(suffix)
        self.user_agent = " ".join(parts)

    def on_request(self, request: httpx.Request, /) -> None:
        """Set the User-Agent unless the request has one."""
        headers = request.headers
        if not has_header(headers, b"user-agent"):
            add_header(headers, b"User-Agent", b"user-agent", self.user_agent)

    def __repr__(self) -> str:
        return f"UserAgentPolicy({self.user_agent!r})"
