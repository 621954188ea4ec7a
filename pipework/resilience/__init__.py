"""Resilience beyond retries: retry budgets, circuit breakers, hedging, adaptive throttling, bulkheads, presets.

Every policy keeps its state per origin (scheme, host, port), reads time from `pipework`'s clock (so
`pipework.testing.zero_wait()` and `VirtualClock` drive it), and updates that state without awaiting, so one
instance is safe under concurrent calls on asyncio and on trio.
"""

from ._breaker import CircuitBreakerConfig, CircuitBreakerPolicy, CircuitState, StateChangeCallback
from ._budget import BudgetStats, RetryBudget, RetryBudgetConfig
from ._bulkhead import BulkheadConfig, BulkheadPolicy
from ._hedging import HedgingConfig, HedgingPolicy
from ._presets import PresetName, ResilienceConfig, resilience_policies
from ._throttle import AdaptiveThrottleConfig, AdaptiveThrottlePolicy, rejection_probability
from ._timeout import AttemptTimeoutConfig, AttemptTimeoutPolicy

__all__ = [
    "AdaptiveThrottleConfig",
    "AdaptiveThrottlePolicy",
    "AttemptTimeoutConfig",
    "AttemptTimeoutPolicy",
    "BudgetStats",
    "BulkheadConfig",
    "BulkheadPolicy",
    "CircuitBreakerConfig",
    "CircuitBreakerPolicy",
    "CircuitState",
    "HedgingConfig",
    "HedgingPolicy",
    "PresetName",
    "ResilienceConfig",
    "RetryBudget",
    "RetryBudgetConfig",
    "StateChangeCallback",
    "rejection_probability",
    "resilience_policies",
]
