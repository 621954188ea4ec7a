"""Fixtures of the retry tests: one scripted loopback server per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipework.testing import serve

from ._servers import ScriptedApp


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, ScriptedApp]]:
    """The scripted ASGI app served on a free 127.0.0.1 port: (base URL, app)."""
    app = ScriptedApp()
    with serve(app) as url:
        yield url, app
