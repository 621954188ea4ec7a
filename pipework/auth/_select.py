"""policy_for_credential: the authentication policy a client builds from its `credential=` argument."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from .._exceptions import ConfigurationError
from ..pipeline._base import Policy
from ._bearer import BearerTokenPolicy
from ._credentials import KeyCredential, SasCredential
from ._httpx_auth import HttpxAuthPolicy
from ._key import KeyCredentialPolicy
from ._sas import SasCredentialPolicy

__all__ = ["policy_for_credential"]


def policy_for_credential(
    credential: Any,
    scopes: Sequence[str] = (),
    *,
    key_header: str = "Authorization",
    key_prefix: str | None = None,
) -> Policy | None:
    """The policy for `credential`, chosen by its type (None for None):

    - a token credential (any object with `get_token`, sync or async, azure-identity's included):
      `BearerTokenPolicy(credential, *scopes)`;
    - a `KeyCredential`: `KeyCredentialPolicy(credential, key_header, key_prefix)` — by default the raw key
      in `Authorization`; for a service that wants another header, put a KeyCredentialPolicy of your own in
      `per_retry_policies` instead of passing `credential=`;
    - a `SasCredential`: `SasCredentialPolicy(credential)`;
    - an `httpx.Auth` (BasicAuth, DigestAuth, NetRCAuth, …): `HttpxAuthPolicy(credential)`.

    Raises:
        ConfigurationError: any other credential (names `credential`), `scopes` given as one str or
            given for a credential that takes none (names `scopes`).
    """
    if isinstance(scopes, str | bytes) or not isinstance(scopes, Sequence):
        raise ConfigurationError(
            f"scopes must be a sequence of strs (e.g. [scope]), got {type(scopes).__name__}"
        )
    if credential is None:
        return None
    if isinstance(credential, KeyCredential | SasCredential | httpx.Auth) and scopes:
        raise ConfigurationError(
            f"scopes apply to token credentials only, not to a {type(credential).__name__}"
        )
    if isinstance(credential, KeyCredential):
        return KeyCredentialPolicy(credential, key_header, key_prefix)
    if isinstance(credential, SasCredential):
        return SasCredentialPolicy(credential)
    if isinstance(credential, httpx.Auth):
        return HttpxAuthPolicy(credential)
    if callable(getattr(credential, "get_token", None)):
        return BearerTokenPolicy(credential, *scopes)
    raise ConfigurationError(
        "credential must be a token credential (an object with get_token(*scopes)), a KeyCredential, a "
        f"SasCredential or an httpx.Auth, got {type(credential).__name__}"
    )
