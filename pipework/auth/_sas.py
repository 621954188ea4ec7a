"""SasCredentialPolicy: a shared-access signature appended to the request URL, exactly once."""

from __future__ import annotations

from urllib.parse import unquote_plus

import httpx

from .._exceptions import ConfigurationError
from ..pipeline._base import SansIOPolicy
from ..pipeline._redirect import credentials_allowed
from ._credentials import SasCredential

__all__ = ["SasCredentialPolicy"]


class SasCredentialPolicy(SansIOPolicy):
    """Appends the credential's signature to the query of every attempt.

    Exactly once, whatever the URL already holds: parameters named like the signature's (from a retry of
    the same request, a caller-made URL, or a signature since rotated with `update()`) are removed first;
    the rest of the query is kept byte for byte. The signature never appears in a repr (and log lines
    redact `sig`/`se`/`skoid`/… via `pipework._redact`).

    Raises:
        ConfigurationError: `credential` is not a SasCredential.
    """

    __slots__ = ("_credential",)

    def __init__(self, credential: SasCredential) -> None:
        if not isinstance(credential, SasCredential):
            raise ConfigurationError(f"credential must be a SasCredential, got {type(credential).__name__}")
        self._credential = credential

    def on_request(self, request: httpx.Request, /) -> None:
        """Rewrite the query: the other parameters as they were, then the signature."""
        if not credentials_allowed(request):  # redirected to an origin the call does not trust
            return
        signature, names = self._credential.parts
        query = request.url.query
        if query:
            kept = [
                item
                for item in query.split(b"&")
                if item and unquote_plus(item.partition(b"=")[0].decode("ascii", "replace")) not in names
            ]
            kept.append(signature.encode("ascii"))
            new_query = b"&".join(kept)
        else:
            new_query = signature.encode("ascii")
        request.url = request.url.copy_with(query=new_query)

    def __repr__(self) -> str:
        return f"SasCredentialPolicy(params={sorted(self._credential.parts[1])!r})"
