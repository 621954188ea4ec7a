"""KeyCredentialPolicy: an API key in a header, read from a rotatable KeyCredential on every request."""

from __future__ import annotations

import re

import httpx

from .._exceptions import ConfigurationError
from ..pipeline._base import SansIOPolicy
from ..pipeline._headers import set_header
from ..pipeline._redirect import credentials_allowed
from ._credentials import KeyCredential

__all__ = ["KeyCredentialPolicy"]


_TOKEN = re.compile(r"[-!#$%&'*+.^_`|~0-9A-Za-z]+")  # RFC 9110 field-name


class KeyCredentialPolicy(SansIOPolicy):
    """Sets `header_name: [prefix ]key` on every attempt; after `credential.update(new)` the next request
    carries the new key. Like the Azure SDK's key policy it does not insist on https.

    Raises:
        ConfigurationError: `credential` is not a KeyCredential, `header_name` or `prefix` is not a
            non-empty str (names the argument).
    """

    __slots__ = ("_credential", "_header", "_lower", "_name", "_prefix")

    def __init__(self, credential: KeyCredential, header_name: str, prefix: str | None = None) -> None:
        if not isinstance(credential, KeyCredential):
            raise ConfigurationError(f"credential must be a KeyCredential, got {type(credential).__name__}")
        if not isinstance(header_name, str) or not _TOKEN.fullmatch(header_name.strip()):
            raise ConfigurationError(
                f"header_name must be a non-empty header name (letters, digits, -!#$%&'*+.^_`|~), got {header_name!r}"
            )
        if prefix is not None and (not isinstance(prefix, str) or not prefix.strip()):
            raise ConfigurationError(f"prefix must be a non-empty str or None, got {prefix!r}")
        self._credential = credential
        self._header = header_name.strip()
        self._name = self._header.encode("ascii")
        self._lower = self._name.lower()
        self._prefix = f"{prefix.strip()} " if prefix else ""

    @property
    def header_name(self) -> str:
        """The header the key goes in."""
        return self._header

    def on_request(self, request: httpx.Request, /) -> None:
        """Set the header from the credential's current key."""
        if not credentials_allowed(request):  # redirected to an origin the call does not trust
            return
        set_header(request.headers, self._name, self._lower, self._prefix + self._credential.key)

    def __repr__(self) -> str:
        prefix = self._prefix.strip() or None
        return f"KeyCredentialPolicy(header_name={self._header!r}, prefix={prefix!r})"
