"""Shared fixtures: every async test runs on asyncio and on trio; retries never sleep for real."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipework.testing import VirtualClock, zero_wait


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run each `@pytest.mark.anyio` test on both backends."""
    return str(request.param)


@pytest.fixture
def clock() -> Iterator[VirtualClock]:
    """Zero-wait mode: sleeps are recorded in `clock.sleeps`, not slept."""
    with zero_wait() as virtual:
        yield virtual
