"""Resilience presets: retry + budget + circuit breaker + per-attempt timeout, with defaults cross-checked."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .._exceptions import ConfigurationError
from ..pipeline._base import Policy
from ..pipeline.retry import RetryConfig, RetryPolicy
from ._breaker import CircuitBreakerConfig, CircuitBreakerPolicy
from ._budget import RetryBudget, RetryBudgetConfig
from ._timeout import AttemptTimeoutPolicy

__all__ = ["PresetName", "ResilienceConfig", "resilience_policies"]

PresetName = Literal["standard"]


def worst_case_backoff(retry: RetryConfig) -> float:
    """The longest total of computed backoffs over `retry.total` retries (jitter at its top)."""
    total = 0.0
    for number in range(retry.total):
        base = retry.backoff_factor if retry.mode == "fixed" else retry.backoff_factor * 2.0**number
        base = min(base, retry.backoff_max)
        if isinstance(retry.jitter, float | int) and retry.jitter:
            base = min(base * (1.0 + retry.jitter), retry.backoff_max)
        total += base
    return total


class ResilienceConfig(BaseModel):
    """The settings of the resilience a client is built with; the pieces are checked against each other:
    attempt timeout < call timeout, breaker window >= 2 x attempt timeout (the breaker must see several
    attempts per window), worst-case total backoff <= call timeout (the retries it plans can happen).

    Raises:
        pydantic.ValidationError: (a ValueError) on construction when a cross-check fails (it says which).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    retry: RetryConfig = Field(default_factory=RetryConfig)
    budget: RetryBudgetConfig = Field(default_factory=RetryBudgetConfig)
    breaker: CircuitBreakerConfig = Field(default_factory=CircuitBreakerConfig)
    attempt_timeout: float = Field(10.0, gt=0, description="seconds one attempt may take in all")

    @model_validator(mode="after")
    def _cross_checks(self) -> Self:
        call = self.retry.timeout
        if self.attempt_timeout >= call:
            raise ValueError(
                f"attempt_timeout ({self.attempt_timeout:g}s) must be less than the call timeout "
                f"(retry.timeout, {call:g}s)"
            )
        if self.breaker.window < 2 * self.attempt_timeout:
            raise ValueError(
                f"breaker.window ({self.breaker.window:g}s) must be at least 2 x attempt_timeout "
                f"({2 * self.attempt_timeout:g}s)"
            )
        backoff = worst_case_backoff(self.retry)
        if backoff > call:
            raise ValueError(
                f"the worst-case total backoff ({backoff:g}s over {self.retry.total} retries) exceeds the "
                f"call timeout (retry.timeout, {call:g}s)"
            )
        return self

    @classmethod
    def standard(cls) -> ResilienceConfig:
        """3 retries (0.8 s exponential backoff), 20% retry budget with a 10/s floor, breaker at 50% failures of
        at least 20 calls in 30 s (5 s break), 10 s per attempt, 120 s per call."""
        return cls()

    @classmethod
    def preset(cls, name: str) -> ResilienceConfig:
        """The named preset.

        Raises:
            ConfigurationError: an unknown name (the message lists the known ones).
        """
        factory = _PRESETS.get(name)
        if factory is None:
            raise ConfigurationError(
                f"resilience: unknown preset {name!r}; known: {', '.join(sorted(_PRESETS))}"
            )
        return factory()


_PRESETS = {"standard": ResilienceConfig.standard}


def resilience_policies(config: ResilienceConfig | str) -> tuple[RetryPolicy, list[Policy]]:
    """The RetryPolicy (with its budget) and the per-retry policies (breaker, attempt timeout) of `config`.

    Raises:
        ConfigurationError: an unknown preset name, or a config that is not a ResilienceConfig.
    """
    if isinstance(config, str):
        config = ResilienceConfig.preset(config)
    elif not isinstance(config, ResilienceConfig):
        raise ConfigurationError(
            f"resilience must be a preset name or a ResilienceConfig, got {type(config).__name__}"
        )
    retry = RetryPolicy(config.retry, budget=RetryBudget(config.budget))
    breaker = CircuitBreakerPolicy(config.breaker, retry_config=config.retry)
    return retry, [breaker, AttemptTimeoutPolicy(timeout=config.attempt_timeout)]
