"""RetryConfig: defaults, validation messages naming the field, presets, dict/JSON/environment loading."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from pipework import ConfigurationError, RetryConfig


def test_defaults_are_the_reference_pages() -> None:
    """3 retries, exponential from 0.8 s, 60 s cap, 120 s total, 408/429/500/502/503/504."""
    config = RetryConfig()
    assert (config.total, config.backoff_factor, config.backoff_max, config.timeout) == (3, 0.8, 60.0, 120.0)
    assert config.mode == "exponential"
    assert config.jitter == 0.2
    assert config.status_codes == frozenset({408, 429, 500, 502, 503, 504})
    assert (config.connect, config.read, config.status) == (None, None, None)
    assert config.respect_retry_after is True
    assert config.retry_after_max == 60.0


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"total": -1}, "total"),
        ({"connect": -1}, "connect"),
        ({"read": -2}, "read"),
        ({"status": -1}, "status"),
        ({"backoff_factor": -0.1}, "backoff_factor"),
        ({"backoff_factor": float("nan")}, "backoff_factor"),
        ({"backoff_max": -1}, "backoff_max"),
        ({"mode": "linear"}, "mode"),
        ({"jitter": 1.5}, "jitter"),
        ({"jitter": -0.1}, "jitter"),
        ({"jitter": "half"}, "jitter"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": -5}, "timeout"),
        ({"status_codes": [99]}, "status_codes"),
        ({"status_codes": [503, 600]}, "status_codes"),
        ({"retry_after_max": -1}, "retry_after_max"),
        ({"timeout": 0.5, "backoff_factor": 1.0}, "timeout"),
        ({"totl": 3}, "totl"),
    ],
)
def test_bad_values_name_the_field(values: dict[str, Any], field: str) -> None:
    """Every refused value's message names the field at fault."""
    with pytest.raises(ValidationError) as info:
        RetryConfig(**values)
    assert field in str(info.value)


def test_short_deadline_is_fine_without_retries() -> None:
    """A deadline shorter than one backoff is refused only when retries could happen."""
    assert RetryConfig(total=0, timeout=0.1).timeout == 0.1


def test_frozen() -> None:
    """A config cannot change after construction (it is shared by every call)."""
    config = RetryConfig()
    with pytest.raises(ValidationError):
        config.total = 5  # type: ignore[misc]


def test_presets() -> None:
    """disabled() makes one attempt; conservative() retries only "not now" answers, twice."""
    assert RetryConfig.disabled().total == 0
    conservative = RetryConfig.conservative()
    assert conservative.total == 2
    assert conservative.status_codes == frozenset({429, 503})


def test_repr_shows_what_differs_from_defaults() -> None:
    """The repr is short: only the fields that are not defaults."""
    assert repr(RetryConfig()) == "RetryConfig()"
    assert repr(RetryConfig(total=5)) == "RetryConfig(total=5)"


def test_from_dict_and_json() -> None:
    """A config loads from a dict and from JSON (lists become sets), and round-trips through JSON."""
    from_dict = RetryConfig.model_validate({"total": 5, "status_codes": [429, 503], "jitter": "full"})
    from_json = RetryConfig.model_validate_json('{"total": 5, "status_codes": [503, 429], "jitter": "full"}')
    assert from_dict == from_json
    assert from_json.status_codes == frozenset({429, 503})
    assert RetryConfig.model_validate_json(from_json.model_dump_json()) == from_json
    with pytest.raises(ValidationError, match="backoff_max"):
        RetryConfig.model_validate_json('{"backoff_max": -1}')


def test_from_env() -> None:
    """PIPEWORK_RETRY_* variables set fields; other variables are ignored."""
    config = RetryConfig.from_env(
        {
            "PIPEWORK_RETRY_TOTAL": "5",
            "PIPEWORK_RETRY_STATUS_CODES": "429, 503",
            "PIPEWORK_RETRY_JITTER": "full",
            "PIPEWORK_RETRY_BACKOFF_FACTOR": "0.25",
            "PIPEWORK_RETRY_CONNECT": "none",
            "PIPEWORK_RETRY_READ": "2",
            "PIPEWORK_RETRY_RESPECT_RETRY_AFTER": "false",
            "PIPEWORK_RETRY_MODE": "fixed",
            "HOME": "/root",
        }
    )
    assert config == RetryConfig(
        total=5,
        status_codes=frozenset({429, 503}),
        jitter="full",
        backoff_factor=0.25,
        read=2,
        respect_retry_after=False,
        mode="fixed",
    )
    assert RetryConfig.from_env({"PIPEWORK_RETRY_STATUS_CODES": "[500, 502]"}).status_codes == {500, 502}
    assert RetryConfig.from_env({}) == RetryConfig()


def test_from_env_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a mapping, the process environment is read."""
    monkeypatch.setenv("PIPEWORK_RETRY_TOTAL", "7")
    assert RetryConfig.from_env().total == 7


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"PIPEWORK_RETRY_TOTL": "3"}, "PIPEWORK_RETRY_TOTL"),
        ({"PIPEWORK_RETRY_TOTAL": "-1"}, "PIPEWORK_RETRY_TOTAL"),
        ({"PIPEWORK_RETRY_TOTAL": "three"}, "PIPEWORK_RETRY_TOTAL"),
        ({"PIPEWORK_RETRY_JITTER": "2"}, "PIPEWORK_RETRY_JITTER"),
        ({"PIPEWORK_RETRY_STATUS_CODES": "503, 700"}, "PIPEWORK_RETRY_STATUS_CODES"),
    ],
)
def test_from_env_errors_name_the_variable(environ: dict[str, str], named: str) -> None:
    """An unknown variable or a bad value raises ConfigurationError naming the variable."""
    with pytest.raises(ConfigurationError, match=named):
        RetryConfig.from_env(environ)
