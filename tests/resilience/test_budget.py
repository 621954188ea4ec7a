"""RetryBudget: deposits, withdrawals, the floor, the sliding window, and the RetryPolicy consulting it."""

from __future__ import annotations

import logging

import httpx
import pytest

from pipework import ConfigurationError, RetryBudget, RetryConfig, RetryPolicy, history
from pipework.pipeline import Pipeline
from pipework.testing import ScriptedTransport, VirtualClock

from .conftest import send

URL = "http://origin.test/x"


def _request(url: str = URL) -> httpx.Request:
    return httpx.Request("GET", url)


def test_floor_allows_retries_without_traffic(frozen: VirtualClock) -> None:
    """With no traffic the floor alone allows min_retries_per_second x window retries, then no more."""
    budget = RetryBudget(ratio=0.2, window=10, min_retries_per_second=0.3)
    assert [budget.try_withdraw(_request()) for _ in range(4)] == [True, True, True, False]


def test_deposits_earn_ratio_of_a_retry(frozen: VirtualClock) -> None:
    """Ten first attempts at ratio 0.2 earn two retries."""
    budget = RetryBudget(ratio=0.2, window=10, min_retries_per_second=0)
    for _ in range(10):
        budget.deposit(_request())
    assert [budget.try_withdraw(_request()) for _ in range(3)] == [True, True, False]
    stats = budget.stats(URL)
    assert (round(stats.requests), stats.retries, stats.origin) == (10, 2.0, "http://origin.test:80")


def test_window_slides(frozen: VirtualClock) -> None:
    """Deposits older than the window are forgotten; so are withdrawals."""
    budget = RetryBudget(ratio=0.5, window=10, min_retries_per_second=0)
    budget.deposit(_request())
    budget.deposit(_request())
    frozen.advance(10.5)
    assert not budget.try_withdraw(_request())
    budget.deposit(_request())
    budget.deposit(_request())
    assert budget.try_withdraw(_request())
    assert not budget.try_withdraw(_request())
    frozen.advance(10.5)
    for _ in range(2):
        budget.deposit(_request())
    assert budget.try_withdraw(_request())


def test_budget_is_per_origin(frozen: VirtualClock) -> None:
    """Exhausting one origin (scheme, host, port) leaves the others alone."""
    budget = RetryBudget(ratio=0.2, window=10, min_retries_per_second=0.1)
    assert budget.try_withdraw(_request("http://a.test/"))
    assert not budget.try_withdraw(_request("http://a.test:80/other"))
    assert budget.try_withdraw(_request("http://a.test:8080/"))
    assert budget.try_withdraw(_request("https://a.test/"))


def test_bad_values_name_the_argument() -> None:
    """A bad ratio is refused at construction with the argument named."""
    with pytest.raises(ConfigurationError, match="ratio"):
        RetryBudget(ratio=-1)
    assert "ratio=0.2" in repr(RetryBudget())


@pytest.mark.anyio
async def test_exhausted_budget_returns_last_response_at_once(
    frozen: VirtualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Once the budget is spent the 503 comes back after one attempt, noted in history and logged."""
    budget = RetryBudget(ratio=0.1, window=10, min_retries_per_second=0.2)  # 2 retries from the floor
    transport = ScriptedTransport(503, repeat_last=True)
    pipeline = Pipeline(transport, [RetryPolicy(RetryConfig(total=3, jitter=0), budget=budget)])
    first = await send(pipeline)
    assert transport.calls == 3  # 1 + the 2 retries the budget held (plus 0.1 earned: not a whole retry)
    assert history(first)[-1].note == "retry budget exhausted"
    caplog.set_level(logging.WARNING, "pipework.retry")
    slept = len(frozen.sleeps)
    second = await send(pipeline)
    assert second.status_code == 503
    assert transport.calls == 4
    assert len(frozen.sleeps) == slept
    assert [r.note for r in history(second)] == ["retry budget exhausted"]
    assert "retry budget exhausted" in caplog.text


@pytest.mark.anyio
async def test_budget_does_not_limit_success(frozen: VirtualClock) -> None:
    """Successful calls only deposit: they never need the budget."""
    budget = RetryBudget(ratio=0.2, window=10, min_retries_per_second=0)
    transport = ScriptedTransport(200, repeat_last=True)
    pipeline = Pipeline(transport, [RetryPolicy(budget=budget)])
    for _ in range(5):
        assert (await send(pipeline)).status_code == 200
    assert budget.stats(URL).balance == pytest.approx(1.0)
