"""CircuitBreakerPolicy: stop calling an origin that keeps failing, probe it after a break, resume when it answers."""

from __future__ import annotations

import enum
import logging
import math
from collections.abc import Callable, Iterable

import httpx
from pydantic import BaseModel, ConfigDict, Field

from .. import _time
from .._exceptions import CircuitOpenError, ConfigurationError
from ..pipeline._base import CallNext
from ..pipeline._context import CONTEXT_KEY, CallContext, Outcome
from ..pipeline.retry import RetryConfig, classify_error, classify_response
from ._config import build_config
from ._window import OriginKey, SlidingCounter, origin_key, origin_name

__all__ = ["CircuitBreakerConfig", "CircuitBreakerPolicy", "CircuitState", "StateChangeCallback"]

logger = logging.getLogger("pipework.resilience")


class CircuitState(enum.StrEnum):
    """The state of one origin's circuit."""

    CLOSED = "closed"
    """Calls flow; outcomes are counted."""
    OPEN = "open"
    """Calls fail at once with CircuitOpenError until the break ends."""
    HALF_OPEN = "half_open"
    """A limited number of probes may pass; one success closes the circuit, one failure opens it again."""
    ISOLATED = "isolated"
    """Opened by hand (`isolate()`): stays open until `reset()`."""


StateChangeCallback = Callable[[str, CircuitState, CircuitState], object]
"""Called as `callback(origin, old_state, new_state)` on every transition (errors it raises are logged)."""


class CircuitBreakerConfig(BaseModel):
    """When a circuit opens: at least `minimum_calls` calls in the last `window` seconds, of which at least
    `failure_ratio` failed; it then stays open `break_duration` seconds and lets `half_open_probes` probes in.

    Raises:
        pydantic.ValidationError: (a ValueError) on construction with bad values.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    failure_ratio: float = Field(0.5, gt=0, le=1, description="share of failed calls that opens the circuit")
    window: float = Field(30.0, gt=0, description="seconds of calls the ratio is computed over")
    minimum_calls: int = Field(20, ge=1, description="calls in the window before the ratio is trusted")
    break_duration: float = Field(5.0, gt=0, description="seconds the circuit stays open before a probe")
    half_open_probes: int = Field(1, ge=1, description="probes allowed in flight while half-open")


class _Circuit:
    """One origin's circuit (mutated without awaiting, so concurrent tasks see consistent transitions)."""

    __slots__ = ("counter", "name", "open_until", "probes", "state")

    def __init__(self, name: str, window: float) -> None:
        self.name = name
        self.state = CircuitState.CLOSED
        self.open_until = 0.0
        self.probes = 0
        self.counter = SlidingCounter(window)


class CircuitBreakerPolicy:
    """A per-retry policy: each attempt passes through the breaker of its origin (scheme, host, port).

    Failure is the retry policy's outcome classification: "rejected" (a retried status such as 503),
    "not_sent" and "unknown" errors count as failures; "success" (any final answer, even a 404) as success;
    "fatal" errors and cancellations are not counted. While open, calls raise `CircuitOpenError` (with
    `retry_at`, the pipework-clock time of the next probe) without touching the network.
    `retry_config` gives the statuses that count as rejected when a call has no `retry=` option of its own.

    Raises:
        ConfigurationError: (at construction) a bad value or callback, naming the argument.
        CircuitOpenError: (from a call) the origin's circuit is open, isolated, or its probes are all in flight.
    """

    __slots__ = ("_callbacks", "_circuits", "_retry_config", "config")

    def __init__(
        self,
        config: CircuitBreakerConfig | None = None,
        *,
        failure_ratio: float | None = None,
        window: float | None = None,
        minimum_calls: int | None = None,
        break_duration: float | None = None,
        half_open_probes: int | None = None,
        retry_config: RetryConfig | None = None,
        on_state_change: StateChangeCallback | Iterable[StateChangeCallback] = (),
    ) -> None:
        self.config = build_config(
            "CircuitBreakerPolicy",
            CircuitBreakerConfig,
            config,
            {
                "failure_ratio": failure_ratio,
                "window": window,
                "minimum_calls": minimum_calls,
                "break_duration": break_duration,
                "half_open_probes": half_open_probes,
            },
        )
        if retry_config is not None and not isinstance(retry_config, RetryConfig):
            raise ConfigurationError(
                f"CircuitBreakerPolicy retry_config must be a RetryConfig, got {type(retry_config).__name__}"
            )
        self._retry_config = retry_config or RetryConfig()
        try:
            callbacks = (on_state_change,) if callable(on_state_change) else tuple(on_state_change)
        except TypeError:
            raise ConfigurationError(
                "CircuitBreakerPolicy on_state_change must be a callable or an iterable of callables, "
                f"got {type(on_state_change).__name__}"
            ) from None
        for callback in callbacks:
            if not callable(callback):
                raise ConfigurationError(
                    f"CircuitBreakerPolicy on_state_change: {callback!r} is not callable"
                )
        self._callbacks: tuple[StateChangeCallback, ...] = callbacks
        self._circuits: dict[OriginKey, _Circuit] = {}

    def _circuit(self, url: httpx.URL) -> _Circuit:
        key = origin_key(url)
        circuit = self._circuits.get(key)
        if circuit is None:
            circuit = self._circuits.setdefault(key, _Circuit(origin_name(key), self.config.window))
        return circuit

    async def __call__(self, request: httpx.Request, call_next: CallNext, /) -> httpx.Response:
        """Send `request` unless its origin's circuit is open; count the outcome."""
        circuit = self._circuits.get(origin_key(request.url)) or self._circuit(request.url)
        probe = circuit.state is not CircuitState.CLOSED and self._admit(circuit, request)
        try:
            response = await call_next(request)
        except Exception as exc:
            self._record(circuit, classify_error(exc), probe)
            raise
        except BaseException:  # cancelled: no verdict, but a probe frees its slot
            self._record(circuit, "fatal", probe)
            raise
        ctx = request.extensions.get(CONTEXT_KEY)
        retry = ctx.retry if isinstance(ctx, CallContext) and ctx.retry is not None else self._retry_config
        outcome = classify_response(response, retry)
        if outcome == "success" and not probe and circuit.state is CircuitState.CLOSED:
            circuit.counter.add(_time.clock().now(), 1.0)  # the happy path, inlined
        else:
            self._record(circuit, outcome, probe)
        return response

    def _admit(self, circuit: _Circuit, request: httpx.Request) -> bool:
        """Let a probe in, or raise CircuitOpenError. Returns True: this call is a probe."""
        now = _time.clock().now()
        if circuit.state is CircuitState.ISOLATED:
            raise CircuitOpenError(
                f"the circuit for {circuit.name} is isolated (reset() closes it)",
                origin=circuit.name,
                retry_at=math.inf,
                request=request,
            )
        if circuit.state is CircuitState.OPEN:
            if now < circuit.open_until:
                raise CircuitOpenError(
                    f"the circuit for {circuit.name} is open for {circuit.open_until - now:.3g}s more",
                    origin=circuit.name,
                    retry_at=circuit.open_until,
                    request=request,
                )
            self._transition(circuit, CircuitState.HALF_OPEN, now)
        if circuit.probes >= self.config.half_open_probes:
            raise CircuitOpenError(
                f"the circuit for {circuit.name} is half-open and its probe(s) are in flight",
                origin=circuit.name,
                retry_at=now,
                request=request,
            )
        circuit.probes += 1
        return True

    def _record(self, circuit: _Circuit, outcome: Outcome, probe: bool) -> None:
        if probe:
            circuit.probes -= 1
        if outcome == "fatal":
            return
        failed = outcome != "success"
        now = _time.clock().now()
        if probe:
            if circuit.state is CircuitState.HALF_OPEN:
                self._transition(circuit, CircuitState.OPEN if failed else CircuitState.CLOSED, now)
            return
        if circuit.state is not CircuitState.CLOSED:
            return  # admitted before the circuit opened: the verdict is already in
        counter = circuit.counter
        counter.add(now, 1.0, 1.0 if failed else 0.0)
        if failed:
            calls, failures = counter.totals(now)
            config = self.config
            if calls >= config.minimum_calls and failures >= config.failure_ratio * calls:
                self._transition(circuit, CircuitState.OPEN, now)

    def _transition(self, circuit: _Circuit, new: CircuitState, now: float) -> None:
        old = circuit.state
        if old is new:
            return
        circuit.state = new
        if new is CircuitState.OPEN:
            circuit.open_until = now + self.config.break_duration
        elif new is CircuitState.CLOSED:
            circuit.counter.clear()
        level = logging.WARNING if new in (CircuitState.OPEN, CircuitState.ISOLATED) else logging.INFO
        if logger.isEnabledFor(level):
            logger.log(level, "Circuit for %s: %s -> %s", circuit.name, old.value, new.value)
        for callback in self._callbacks:
            try:
                callback(circuit.name, old, new)
            except Exception:
                logger.exception("on_state_change callback %r failed", callback)

    def state(self, url: httpx.URL | str) -> CircuitState:
        """The state of `url`'s origin (an open circuit whose break is over reads as half-open)."""
        circuit = self._circuit(httpx.URL(url))
        if circuit.state is CircuitState.OPEN and _time.clock().now() >= circuit.open_until:
            return CircuitState.HALF_OPEN
        return circuit.state

    def isolate(self, url: httpx.URL | str) -> None:
        """Open `url`'s circuit by hand until `reset()` (e.g. during a known outage)."""
        self._transition(self._circuit(httpx.URL(url)), CircuitState.ISOLATED, _time.clock().now())

    def reset(self, url: httpx.URL | str) -> None:
        """Close `url`'s circuit by hand and forget its recent outcomes."""
        circuit = self._circuit(httpx.URL(url))
        self._transition(circuit, CircuitState.CLOSED, _time.clock().now())
        circuit.counter.clear()

    def __repr__(self) -> str:
        c = self.config
        return (
            f"CircuitBreakerPolicy(failure_ratio={c.failure_ratio:g}, window={c.window:g}s, "
            f"minimum_calls={c.minimum_calls}, break_duration={c.break_duration:g}s, "
            f"half_open_probes={c.half_open_probes}, origins={len(self._circuits)})"
        )
