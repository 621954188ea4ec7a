"""Credentials and the authentication policies: bearer tokens, API keys, signatures, any httpx.Auth."""

from ._bearer import BearerTokenPolicy, ChallengeHook
from ._challenge import Challenge, claims_from_challenges, parse_challenges
from ._credentials import (
    AccessToken,
    AccessTokenLike,
    KeyCredential,
    SasCredential,
    StaticTokenCredential,
    SyncTokenCredential,
    TokenCredential,
)
from ._httpx_auth import HttpxAuthPolicy
from ._key import KeyCredentialPolicy
from ._sas import SasCredentialPolicy
from ._select import policy_for_credential

__all__ = [
    "AccessToken",
    "AccessTokenLike",
    "BearerTokenPolicy",
    "Challenge",
    "ChallengeHook",
    "HttpxAuthPolicy",
    "KeyCredential",
    "KeyCredentialPolicy",
    "SasCredential",
    "SasCredentialPolicy",
    "StaticTokenCredential",
    "SyncTokenCredential",
    "TokenCredential",
    "claims_from_challenges",
    "parse_challenges",
    "policy_for_credential",
]
