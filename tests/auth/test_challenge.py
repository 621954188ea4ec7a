"""WWW-Authenticate parsing and claims extraction (pure functions, table-tested)."""

from __future__ import annotations

import base64

import pytest

from pipework.auth import claims_from_challenges, parse_challenges


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (['Bearer realm="x"'], [("bearer", {"realm": "x"})]),
        (
            ['Bearer realm="a, b", error="invalid_token", Basic realm="y"'],
            [("bearer", {"realm": "a, b", "error": "invalid_token"}), ("basic", {"realm": "y"})],
        ),
        (
            ['Digest realm="r", qop="auth,auth-int"', "Bearer"],
            [("digest", {"realm": "r", "qop": "auth,auth-int"}), ("bearer", {})],
        ),
        (['Bearer realm="say \\"hi\\""'], [("bearer", {"realm": 'say "hi"'})]),
        (["Negotiate"], [("negotiate", {})]),
        (["", "  "], []),
    ],
)
def test_parse_challenges(headers: list[str], expected: list[tuple[str, dict[str, str]]]) -> None:
    """Schemes start challenges; parameters attach to the current one, quotes and escapes removed."""
    assert parse_challenges(headers) == expected


def _b64(text: str, *, pad: bool = False) -> str:
    encoded = base64.urlsafe_b64encode(text.encode()).decode()
    return encoded if pad else encoded.rstrip("=")


@pytest.mark.parametrize(
    ("header", "claims"),
    [
        (f'Bearer error="insufficient_claims", claims="{_b64("{}x")}"', "{}x"),
        (f'Bearer error="insufficient_claims", claims="{_b64("{}xy", pad=True)}"', "{}xy"),
        (f'Bearer error="invalid_token", claims="{_b64("{}")}"', None),
        (f'Basic error="insufficient_claims", claims="{_b64("{}")}"', None),
        ('Bearer error="insufficient_claims", claims="%%%"', None),
        ('Bearer error="insufficient_claims"', None),
    ],
)
def test_claims_from_challenges(header: str, claims: str | None) -> None:
    """Claims come only from a Bearer insufficient_claims challenge with decodable base64url claims."""
    assert claims_from_challenges(parse_challenges([header])) == claims
