"""KeyCredentialPolicy and SasCredentialPolicy: rotation, header placement, signature exactly once."""

from __future__ import annotations

import httpx
import pytest

from pipework import (
    AsyncPipelineClient,
    ConfigurationError,
    KeyCredential,
    KeyCredentialPolicy,
    Pipeline,
    RetryPolicy,
    SasCredential,
    SasCredentialPolicy,
)

from .conftest import MARKER, Wire

pytestmark = pytest.mark.anyio


async def test_key_rotation_takes_effect_on_next_request() -> None:
    """After update(), the next request carries the new key in the chosen header."""
    credential = KeyCredential(f"{MARKER}-key-1")
    transport = Wire(200, repeat_last=True)
    pipe = Pipeline(transport, [KeyCredentialPolicy(credential, "api-key")])
    await pipe.handle_async_request(httpx.Request("GET", "https://api.test/"))
    credential.update(f"{MARKER}-key-2")
    await pipe.handle_async_request(httpx.Request("GET", "https://api.test/"))
    assert [r.headers["api-key"] for r in transport.requests] == [f"{MARKER}-key-1", f"{MARKER}-key-2"]


async def test_key_prefix() -> None:
    """A prefix goes before the key, separated by one space."""
    transport = Wire(200)
    policy = KeyCredentialPolicy(KeyCredential(f"{MARKER}-k"), "Authorization", prefix="SharedKey")
    await Pipeline(transport, [policy]).handle_async_request(httpx.Request("GET", "https://a.test/"))
    assert transport.requests[0].headers["authorization"] == f"SharedKey {MARKER}-k"


def test_key_reprs_and_validation() -> None:
    """Reprs hide the key; bad arguments name themselves."""
    credential = KeyCredential(f"{MARKER}-k")
    assert MARKER not in repr(credential)
    assert MARKER not in repr(KeyCredentialPolicy(credential, "api-key"))
    with pytest.raises(ConfigurationError, match="key"):
        KeyCredential("")
    with pytest.raises(ConfigurationError, match="key"):
        credential.update(None)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="credential"):
        KeyCredentialPolicy(f"{MARKER}-k", "api-key")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="header_name"):
        KeyCredentialPolicy(credential, "")


SIG = f"sv=2024-01-01&se=2030-01-01&sig={MARKER}%2Bsig"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://b.test/c/d", f"https://b.test/c/d?{SIG}"),
        ("https://b.test/c?comp=list&x=a%20b", f"https://b.test/c?comp=list&x=a%20b&{SIG}"),
        (f"https://b.test/c?{SIG}", f"https://b.test/c?{SIG}"),
        ("https://b.test/c?sig=old&comp=list&sv=old", f"https://b.test/c?comp=list&{SIG}"),
    ],
)
async def test_signature_appended_exactly_once(url: str, expected: str) -> None:
    """The signature appears once whatever the URL holds; other parameters are kept as they were."""
    transport = Wire(200)
    policy = SasCredentialPolicy(SasCredential("?" + SIG))
    await Pipeline(transport, [policy]).handle_async_request(httpx.Request("GET", url))
    assert transport.urls == [expected]


async def test_signature_once_across_retries_and_after_rotation(clock: object) -> None:
    """Each retry attempt carries the signature once; a rotated signature replaces the old one."""
    credential = SasCredential(SIG)
    transport = Wire(503, 503, 200, 200)
    async with AsyncPipelineClient(
        transport=transport, policies=[RetryPolicy(retry_total=3), SasCredentialPolicy(credential)]
    ) as client:
        assert (await client.get("https://b.test/blob?comp=x")).status_code == 200
        credential.update(f"sv=2025&sig={MARKER}-new")
        await client.get("https://b.test/blob?comp=x")
    assert transport.urls == [f"https://b.test/blob?comp=x&{SIG}"] * 3 + [
        f"https://b.test/blob?comp=x&sv=2025&sig={MARKER}-new"
    ]


def test_sas_reprs_and_validation() -> None:
    """Reprs list parameter names only; a signature without name=value pairs is refused."""
    credential = SasCredential(SIG)
    for text in (repr(credential), repr(SasCredentialPolicy(credential))):
        assert MARKER not in text
        assert "sig" in text
    with pytest.raises(ConfigurationError, match="signature"):
        SasCredential("?")
    with pytest.raises(ConfigurationError, match="signature"):
        SasCredential("=x")
    with pytest.raises(ConfigurationError, match="credential"):
        SasCredentialPolicy(SIG)  # type: ignore[arg-type]
