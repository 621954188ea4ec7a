"""Shared helpers for the resilience configs: pydantic errors turned into ConfigurationError naming the field."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .._exceptions import ConfigurationError

__all__ = ["build_config"]

M = TypeVar("M", bound=BaseModel)


def build_config(owner: str, model: type[M], config: M | None, overrides: dict[str, Any]) -> M:
    """`config` (or the defaults) with the non-None `overrides` applied, validated.

    Raises:
        ConfigurationError: `config` is not a `model`, or a value is bad (the message names the argument).
    """
    if config is not None and not isinstance(config, model):
        raise ConfigurationError(f"{owner} config must be a {model.__name__}, got {type(config).__name__}")
    updates = {name: value for name, value in overrides.items() if value is not None}
    if config is not None and not updates:
        return config
    base = config.model_dump(exclude_defaults=True) if config is not None else {}
    try:
        return model.model_validate({**base, **updates})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "arguments"
        raise ConfigurationError(f"{owner} {field}: {first['msg']}") from exc
