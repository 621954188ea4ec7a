"""RetryConfig: the typed, validated retry settings (defaults from the reference page)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..._exceptions import ConfigurationError

__all__ = ["DEFAULT_STATUS_CODES", "ENV_PREFIX", "RetryConfig"]

DEFAULT_STATUS_CODES = frozenset({408, 429, 500, 502, 503, 504})
ENV_PREFIX = "PIPEWORK_RETRY_"


class RetryConfig(BaseModel):
    """How a call is retried. Frozen; unknown fields are refused; every bad value names its field.

    `total` retries follow the first attempt; retry n (from 0) waits `min(backoff_factor * 2**n, backoff_max)`
    scaled by jitter, unless the server asked for a wait (Retry-After and friends). `timeout` bounds the whole
    call: attempts, sleeps and server-requested waits.

    Raises:
        pydantic.ValidationError: (a ValueError) on construction with bad values.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    total: int = Field(3, ge=0, description="retries after the first attempt (0 disables retrying)")
    connect: int | None = Field(
        None, ge=0, description="cap on retries of errors before the request was sent"
    )
    read: int | None = Field(None, ge=0, description="cap on retries of errors after the request was sent")
    status: int | None = Field(None, ge=0, description="cap on retries of error statuses")
    backoff_factor: float = Field(0.8, ge=0, description="base delay in seconds")
    backoff_max: float = Field(60.0, ge=0, description="cap on one computed delay, seconds")
    mode: Literal["exponential", "fixed"] = "exponential"
    jitter: float | Literal["full"] = Field(0.2, description="proportional jitter in [0, 1], or 'full'")
    timeout: float = Field(120.0, gt=0, description="deadline of the whole call, seconds")
    status_codes: frozenset[int] = DEFAULT_STATUS_CODES
    respect_retry_after: bool = True
    retry_after_max: float = Field(60.0, ge=0, description="longest server-requested wait honoured, seconds")

    @field_validator("jitter")
    @classmethod
    def _jitter_range(cls, value: float | str) -> float | str:
        if isinstance(value, float | int) and not 0 <= value <= 1:
            raise ValueError("jitter must be within [0, 1] or 'full'")
        return value

    @field_validator("status_codes", mode="before")
    @classmethod
    def _split_codes(cls, value: Any) -> Any:
        if isinstance(value, str):  # "429, 503" or "[429, 503]" from an environment variable
            return [part.strip() for part in value.strip().strip("[]").split(",") if part.strip()]
        return value

    @field_validator("status_codes")
    @classmethod
    def _codes_range(cls, value: frozenset[int]) -> frozenset[int]:
        bad = sorted(code for code in value if not 100 <= code <= 599)
        if bad:
            raise ValueError(f"status codes must be within 100-599, got {bad}")
        return value

    @model_validator(mode="after")
    def _deadline_fits_one_backoff(self) -> Self:
        first = min(self.backoff_factor, self.backoff_max)
        if self.total > 0 and self.timeout <= first:
            raise ValueError(
                f"timeout ({self.timeout}s) is shorter than one backoff ({first}s): no retry could ever happen; "
                "raise timeout, lower backoff_factor, or set total=0"
            )
        return self

    @classmethod
    def disabled(cls) -> RetryConfig:
        """No retries: one attempt, still under the call deadline."""
        return cls(total=0)

    @classmethod
    def conservative(cls) -> RetryConfig:
        """For clients heavy in non-idempotent calls: 2 retries, only on 429/503 (the server said "not now")."""
        return cls(total=2, backoff_factor=1.0, status_codes=frozenset({429, 503}))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, prefix: str = ENV_PREFIX) -> RetryConfig:
        """Read `PIPEWORK_RETRY_<FIELD>` variables (e.g. `PIPEWORK_RETRY_TOTAL=5`); unset fields keep defaults.

        Raises:
            ConfigurationError: an unknown `PIPEWORK_RETRY_*` variable, or a bad value (the variable is named).
        """
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for key, raw in environ.items():
            if not key.startswith(prefix):
                continue
            name = key[len(prefix) :].lower()
            if name not in cls.model_fields:
                raise ConfigurationError(
                    f"unknown retry setting {key}; known: {', '.join(prefix + f.upper() for f in cls.model_fields)}"
                )
            values[name] = None if raw.strip().lower() in {"none", ""} and name in _OPTIONAL else raw.strip()
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = str(first["loc"][0]) if first["loc"] else ""
            where = prefix + field.upper() if field else "PIPEWORK_RETRY_*"
            raise ConfigurationError(f"{where}: {first['msg']}") from exc

    def __repr_args__(self) -> Any:
        defaults = type(self).model_fields
        return [(k, v) for k, v in super().__repr_args__() if k is None or v != defaults[k].default]


_OPTIONAL = frozenset({"connect", "read", "status"})
