"""Reading `WWW-Authenticate` challenges (RFC 9110 §11.6.1), and the claims of a CAE claims challenge."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable

__all__ = ["Challenge", "claims_from_challenges", "parse_challenges"]

Challenge = tuple[str, dict[str, str]]
"""An auth scheme (lower case) and its parameters (names lower case, values unquoted)."""

_ITEM = re.compile(r"""\s*,?\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?:\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*))?\s*""")
_UNESCAPE = re.compile(r"\\(.)")


def parse_challenges(headers: Iterable[str]) -> list[Challenge]:
    """The challenges in the given `WWW-Authenticate` header values, in order; a malformed part is skipped.

    `Bearer realm="x", error="insufficient_claims", Basic realm="y"` gives two challenges. A bare name
    starts a new challenge; `name=value` adds a parameter to the current one (token68 forms are kept as
    parameters, which is enough for the schemes a policy has to recognise).
    """
    challenges: list[Challenge] = []
    for header in headers:
        position = 0
        while position < len(header):
            match = _ITEM.match(header, position)
            if match is None or match.end() == position:
                break
            position = match.end()
            name, value = match.group(1), match.group(2)
            if value is None:
                challenges.append((name.lower(), {}))
            elif challenges:
                if value.startswith('"') and value.endswith('"') and len(value) >= 2:
                    value = _UNESCAPE.sub(r"\1", value[1:-1])
                challenges[-1][1][name.lower()] = value
    return challenges


def claims_from_challenges(challenges: Iterable[Challenge]) -> str | None:
    """The decoded claims of the first Bearer challenge with `error="insufficient_claims"` and `claims`.

    None when there is no such challenge, or when its claims are not base64url of UTF-8 text (a
    malformed claims challenge is not answered).
    """
    for scheme, params in challenges:
        if scheme != "bearer" or params.get("error") != "insufficient_claims" or not params.get("claims"):
            continue
        encoded = params["claims"].strip()
        try:
            decoded = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")
        except (binascii.Error, ValueError):
            return None
        return decoded or None
    return None
