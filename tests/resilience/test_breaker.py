"""CircuitBreakerPolicy: every state transition on a frozen virtual clock, per origin, with callbacks."""

from __future__ import annotations

import math

import anyio
import httpx
import pytest

from pipework import CircuitBreakerPolicy, CircuitOpenError, CircuitState, ConfigurationError
from pipework.pipeline import Pipeline
from pipework.testing import ScriptedTransport, VirtualClock

from .conftest import send

URL = "http://origin.test/x"
Change = tuple[str, CircuitState, CircuitState]


def _breaker(changes: list[Change] | None = None, **options: float) -> CircuitBreakerPolicy:
    settings = {"minimum_calls": 4, "failure_ratio": 0.5, "window": 30.0, "break_duration": 5.0, **options}
    return CircuitBreakerPolicy(
        on_state_change=(lambda *change: changes.append(change)) if changes is not None else (),
        **settings,  # type: ignore[arg-type]
    )


async def _fail(pipeline: Pipeline, times: int, url: str = URL) -> None:
    for _ in range(times):
        assert (await send(pipeline, url)).status_code == 503


async def _open(breaker: CircuitBreakerPolicy) -> ScriptedTransport:
    transport = ScriptedTransport(503, repeat_last=True)
    await _fail(Pipeline(transport, [breaker]), 4)
    assert breaker.state(URL) is CircuitState.OPEN
    return transport


@pytest.mark.anyio
async def test_closed_to_open_at_ratio_and_minimum_calls(frozen: VirtualClock) -> None:
    """Three failures of three calls stay closed (below the minimum); the fourth opens the circuit."""
    changes: list[Change] = []
    breaker = _breaker(changes)
    pipeline = Pipeline(ScriptedTransport(503, repeat_last=True), [breaker])
    await _fail(pipeline, 3)
    assert breaker.state(URL) is CircuitState.CLOSED
    await _fail(pipeline, 1)
    assert breaker.state(URL) is CircuitState.OPEN
    assert changes == [("http://origin.test:80", CircuitState.CLOSED, CircuitState.OPEN)]


@pytest.mark.anyio
async def test_stays_closed_below_failure_ratio(frozen: VirtualClock) -> None:
    """Two failures in five calls (40% < 50%) keep the circuit closed; a 404 counts as a success."""
    breaker = _breaker()
    pipeline = Pipeline(ScriptedTransport(200, 404, 503, 200, 503), [breaker])
    for _ in range(5):
        await send(pipeline)
    assert breaker.state(URL) is CircuitState.CLOSED


@pytest.mark.anyio
async def test_old_failures_leave_the_window(frozen: VirtualClock) -> None:
    """Failures older than the window no longer count toward opening."""
    breaker = _breaker()
    pipeline = Pipeline(ScriptedTransport(503, repeat_last=True), [breaker])
    await _fail(pipeline, 3)
    frozen.advance(31)
    await _fail(pipeline, 3)
    assert breaker.state(URL) is CircuitState.CLOSED


@pytest.mark.anyio
async def test_open_raises_without_touching_the_network(frozen: VirtualClock) -> None:
    """While open, calls raise CircuitOpenError carrying retry_at; the transport sees nothing."""
    breaker = _breaker()
    transport = await _open(breaker)
    opened_at = frozen.now()
    with pytest.raises(CircuitOpenError) as caught:
        await send(Pipeline(transport, [breaker]))
    assert transport.calls == 4
    assert caught.value.retry_at == pytest.approx(opened_at + 5.0)
    assert caught.value.origin == "http://origin.test:80"


@pytest.mark.anyio
async def test_half_open_probe_success_closes(frozen: VirtualClock) -> None:
    """After the break one probe passes; its success closes the circuit and calls flow again."""
    changes: list[Change] = []
    breaker = _breaker(changes)
    await _open(breaker)
    frozen.advance(5.0)
    assert breaker.state(URL) is CircuitState.HALF_OPEN
    transport = ScriptedTransport(200, repeat_last=True)
    pipeline = Pipeline(transport, [breaker])
    assert (await send(pipeline)).status_code == 200
    assert breaker.state(URL) is CircuitState.CLOSED
    assert (await send(pipeline)).status_code == 200
    assert transport.calls == 2
    assert [new for _, _, new in changes] == [CircuitState.OPEN, CircuitState.HALF_OPEN, CircuitState.CLOSED]


@pytest.mark.anyio
async def test_half_open_probe_failure_reopens(frozen: VirtualClock) -> None:
    """A failed probe opens the circuit again for a full break."""
    breaker = _breaker()
    transport = await _open(breaker)
    frozen.advance(5.0)
    pipeline = Pipeline(transport, [breaker])
    await _fail(pipeline, 1)
    assert breaker.state(URL) is CircuitState.OPEN
    with pytest.raises(CircuitOpenError) as caught:
        await send(pipeline)
    assert caught.value.retry_at == pytest.approx(frozen.now() + 5.0)
    assert transport.calls == 5


@pytest.mark.anyio
async def test_half_open_limits_probes_in_flight(frozen: VirtualClock) -> None:
    """With one probe allowed, a second concurrent call is refused while the probe is in flight."""
    breaker = _breaker()
    await _open(breaker)
    frozen.advance(5.0)
    release = anyio.Event()

    async def slow(request: httpx.Request) -> int:
        await release.wait()
        return 200

    transport = ScriptedTransport(slow)
    pipeline = Pipeline(transport, [breaker])
    results: list[int] = []

    async def probe() -> None:
        results.append((await send(pipeline)).status_code)

    async with anyio.create_task_group() as group:
        group.start_soon(probe)
        await anyio.wait_all_tasks_blocked()
        with pytest.raises(CircuitOpenError, match="probe"):
            await send(pipeline)
        release.set()
    assert results == [200]
    assert breaker.state(URL) is CircuitState.CLOSED


@pytest.mark.anyio
async def test_cancelled_probe_frees_its_slot(frozen: VirtualClock) -> None:
    """A probe cancelled mid-flight gives no verdict and lets the next call probe."""
    breaker = _breaker()
    await _open(breaker)
    frozen.advance(5.0)
    never = anyio.Event()

    async def hang(request: httpx.Request) -> int:
        await never.wait()
        return 200

    async with anyio.create_task_group() as group:
        group.start_soon(send, Pipeline(ScriptedTransport(hang), [breaker]))
        await anyio.wait_all_tasks_blocked()
        group.cancel_scope.cancel()
    assert breaker.state(URL) is CircuitState.HALF_OPEN
    assert (await send(Pipeline(ScriptedTransport(200), [breaker]))).status_code == 200
    assert breaker.state(URL) is CircuitState.CLOSED


@pytest.mark.anyio
async def test_isolate_and_reset(frozen: VirtualClock) -> None:
    """isolate() refuses calls until reset(), whatever the time; reset() closes with a clean window."""
    changes: list[Change] = []
    breaker = _breaker(changes)
    transport = ScriptedTransport(200, repeat_last=True)
    pipeline = Pipeline(transport, [breaker])
    breaker.isolate(URL)
    frozen.advance(3600)
    with pytest.raises(CircuitOpenError) as caught:
        await send(pipeline)
    assert caught.value.retry_at == math.inf
    assert transport.calls == 0
    breaker.reset(URL)
    assert (await send(pipeline)).status_code == 200
    assert [(old, new) for _, old, new in changes] == [
        (CircuitState.CLOSED, CircuitState.ISOLATED),
        (CircuitState.ISOLATED, CircuitState.CLOSED),
    ]


@pytest.mark.anyio
async def test_reset_forgets_failures(frozen: VirtualClock) -> None:
    """After reset() the failures seen before no longer count."""
    breaker = _breaker()
    pipeline = Pipeline(ScriptedTransport(503, repeat_last=True), [breaker])
    await _fail(pipeline, 3)
    breaker.reset(URL)
    await _fail(pipeline, 3)
    assert breaker.state(URL) is CircuitState.CLOSED


@pytest.mark.anyio
async def test_circuits_are_per_origin(frozen: VirtualClock) -> None:
    """An open circuit for one origin leaves another port of the same host alone."""
    breaker = _breaker()
    await _open(breaker)
    transport = ScriptedTransport(200)
    assert (await send(Pipeline(transport, [breaker]), "http://origin.test:8080/x")).status_code == 200


@pytest.mark.anyio
async def test_connection_errors_count_and_fatal_errors_do_not(frozen: VirtualClock) -> None:
    """Connect errors are failures; errors of the caller's making (not retried) are not counted."""
    breaker = _breaker()
    pipeline = Pipeline(ScriptedTransport(ValueError, repeat_last=True), [breaker])
    for _ in range(6):
        with pytest.raises(ValueError, match="scripted"):
            await send(pipeline)
    assert breaker.state(URL) is CircuitState.CLOSED
    pipeline = Pipeline(ScriptedTransport(httpx.ConnectError, repeat_last=True), [breaker])
    for _ in range(4):
        with pytest.raises(httpx.ConnectError):
            await send(pipeline)
    assert breaker.state(URL) is CircuitState.OPEN


@pytest.mark.anyio
async def test_a_failing_callback_does_not_break_the_circuit(frozen: VirtualClock) -> None:
    """An exception in a state-change callback is logged; the transition still happens."""

    def boom(*change: object) -> None:
        raise RuntimeError("callback bug")

    breaker = CircuitBreakerPolicy(minimum_calls=1, on_state_change=boom)
    await _fail(Pipeline(ScriptedTransport(503), [breaker]), 1)
    assert breaker.state(URL) is CircuitState.OPEN


def test_bad_options_are_named() -> None:
    """Bad values and callbacks are refused at construction, naming the argument."""
    with pytest.raises(ConfigurationError, match="failure_ratio"):
        CircuitBreakerPolicy(failure_ratio=2)
    with pytest.raises(ConfigurationError, match="on_state_change"):
        CircuitBreakerPolicy(on_state_change=[42])  # type: ignore[list-item]
    assert "minimum_calls=20" in repr(CircuitBreakerPolicy())
