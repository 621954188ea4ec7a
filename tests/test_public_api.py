"""The public API: explicit re-exports, `__all__` complete and sorted, every name importable."""

from __future__ import annotations

import importlib.metadata
import types

import pipework


def test_all_is_sorted_and_unique() -> None:
    """`pipework.__all__` is sorted and has no duplicates."""
    assert pipework.__all__ == sorted(pipework.__all__)
    assert len(set(pipework.__all__)) == len(pipework.__all__)


def test_all_names_every_public_attribute() -> None:
    """Every public name the package exposes is in `__all__` (submodules aside), and each one resolves."""
    public = {
        name
        for name, value in vars(pipework).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public <= set(pipework.__all__), sorted(public - set(pipework.__all__))
    for name in pipework.__all__:
        assert getattr(pipework, name) is not None, name


def test_core_names_are_exported() -> None:
    """The names DESIGN.md promises are importable from `pipework`."""
    for name in (
        "AsyncPipelineClient",
        "CallContext",
        "ConfigurationError",
        "HttpResponseError",
        "Pipeline",
        "Policy",
        "RetryConfig",
        "RetryPolicy",
        "SansIOPolicy",
        "context_of",
        "raise_for_status",
    ):
        assert name in pipework.__all__, name


def test_version_matches_the_installed_distribution() -> None:
    """`pipework.__version__` is the version pip installed (pyproject's), not a stale copy."""
    assert pipework.__version__ == importlib.metadata.version("pipework")
