"""The faults the chaos server can inject: a small vocabulary, scripts of it, and a seeded random mix.

A fault script is a comma-separated list of steps, one per arrival of a key (the last step repeats):

    503                        a status (2xx executes the request; other statuses do not)
    503;retry-after=1          ... with `Retry-After: 1` (seconds)
    503;retry-after-date=2     ... with `Retry-After: <HTTP-date 2 s from now>`
    429;retry-after-ms=50      ... with `retry-after-ms: 50`
    reset-before               drop the connection before the request is read (not executed)
    reset-after                read and execute the request, then drop the connection (response lost)
    truncate                   execute, then send fewer body bytes than Content-Length announces
    slow=1500                  execute, wait 1500 ms before sending the headers
    redirect=307               answer with a redirect (to /echo?id=<key>) — not executed
"""

from __future__ import annotations

import dataclasses
import random

from .._exceptions import ConfigurationError

__all__ = ["OK", "ChaosFault", "FaultModel", "parse_script"]


@dataclasses.dataclass(frozen=True, slots=True)
class ChaosFault:
    """One step: what the chaos server does with one arrival of a request."""

    kind: str
    """"status", "reset-before", "reset-after", "truncate", "slow" or "redirect"."""
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    """Retry-After headers to add (the value of retry-after-date is a delay, turned into a date when sent)."""
    delay_ms: int = 0

    @property
    def executes(self) -> bool:
        """Whether the server performs the request's side effect before (or despite) this fault."""
        if self.kind == "status":
            return 200 <= self.status < 300
        return self.kind in ("reset-after", "truncate", "slow")

    def __str__(self) -> str:
        if self.kind == "status":
            return ";".join([str(self.status), *(f"{name}={value}" for name, value in self.headers)])
        if self.kind == "slow":
            return f"slow={self.delay_ms}"
        if self.kind == "redirect":
            return f"redirect={self.status}"
        return self.kind


OK = ChaosFault("status", 200)


def parse_script(script: str) -> tuple[ChaosFault, ...]:
    """Parse a fault script (see the module docstring).

    Raises:
        ConfigurationError: an unknown step, naming it.
    """
    steps = tuple(_parse_step(part.strip()) for part in script.split(",") if part.strip())
    if not steps:
        raise ConfigurationError("script: empty fault script")
    return steps


def _parse_step(step: str) -> ChaosFault:
    name, _, value = step.partition("=")
    try:
        if name in ("reset-before", "reset", "reset-after", "truncate") and not value:
            return ChaosFault("reset-before" if name == "reset" else name)
        if name == "slow":
            return ChaosFault("slow", delay_ms=int(value or 1000))
        if name == "redirect":
            return ChaosFault("redirect", status=int(value or 307))
        status_text, *options = step.split(";")
        status = int(status_text)
        if not 200 <= status <= 599:
            raise ValueError(step)
        headers = []
        for option in options:
            header, _, amount = option.partition("=")
            if header not in ("retry-after", "retry-after-date", "retry-after-ms") or not amount:
                raise ValueError(option)
            float(amount)
            headers.append((header, amount))
        return ChaosFault("status", status, tuple(headers))
    except ValueError:
        raise ConfigurationError(f"script: unknown fault step {step!r}") from None


# The random mix, as (weight, fault). Requests that may be safely retried get every kind of fault;
# a POST/PATCH without an Idempotency-Key only gets the ones where the server says it did not act.
_ANY_REQUEST = (
    (20, ChaosFault("status", 503)),
    (10, ChaosFault("status", 500)),
    (10, ChaosFault("status", 502)),
    (5, ChaosFault("status", 504)),
    (15, ChaosFault("status", 429, (("retry-after-ms", "80"),))),
    (3, ChaosFault("status", 503, (("retry-after", "1"),))),
    (3, ChaosFault("status", 503, (("retry-after-date", "1"),))),
    (10, ChaosFault("reset-before")),
    (10, ChaosFault("reset-after")),
    (7, ChaosFault("truncate")),
    (7, ChaosFault("slow", delay_ms=1000)),
)
_SAID_NOT_NOW = (
    (10, ChaosFault("status", 503, (("retry-after-ms", "60"),))),
    (10, ChaosFault("status", 429, (("retry-after-ms", "80"),))),
    (1, ChaosFault("status", 503, (("retry-after", "1"),))),
)


@dataclasses.dataclass(frozen=True, slots=True)
class FaultModel:
    """Seeded random faults: arrival n of a key fails with probability `fail_rate` while n <= `max_faults`.

    The draw depends only on (seed, key, n), so a workload sees the same faults whatever the order in which
    its requests arrive. Faults are transient: from arrival `max_faults + 1` on, a key always succeeds.
    A POST/PATCH without an Idempotency-Key only gets 429/503 with a Retry-After (the server says it did not
    act): an ambiguous fault on it cannot be recovered by any client without risking a duplicate.

    Raises:
        ConfigurationError: a bad value, naming the field.
    """

    fail_rate: float = 0.0
    seed: int = 0
    max_faults: int = 3
    latency_ms: tuple[int, int] = (0, 0)

    def __post_init__(self) -> None:
        if not 0.0 <= self.fail_rate <= 1.0:
            raise ConfigurationError(f"fail_rate must be within [0, 1], got {self.fail_rate}")
        if self.max_faults < 0:
            raise ConfigurationError(f"max_faults must be >= 0, got {self.max_faults}")
        low, high = self.latency_ms
        if not 0 <= low <= high:
            raise ConfigurationError(f"latency_ms must be 0 <= low <= high, got {self.latency_ms}")

    def draw(self, key: str, arrival: int, *, safe_to_retry: bool) -> tuple[ChaosFault, int]:
        """The fault for arrival `arrival` (1-based) of `key`, and the latency (ms) to add before answering."""
        rng = random.Random(f"{self.seed}|{key}|{arrival}")
        latency = rng.randint(*self.latency_ms) if self.latency_ms[1] else 0
        if arrival > self.max_faults or rng.random() >= self.fail_rate:
            return OK, latency
        mix = _ANY_REQUEST if safe_to_retry else _SAID_NOT_NOW
        weights = [weight for weight, _ in mix]
        return rng.choices([fault for _, fault in mix], weights)[0], latency
