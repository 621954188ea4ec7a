"""Argument types for the command line: each rejects a bad value with a message argparse prefixes with the flag."""

from __future__ import annotations

import argparse
import math

__all__ = ["header", "latency_range", "non_negative_int", "positive_float", "positive_int", "probability"]


def _number(text: str, kind: type[int] | type[float]) -> float:
    try:
        value = kind(text)
    except ValueError:
        kind_name = "an integer" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {kind_name}, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def positive_int(text: str) -> int:
    value = int(_number(text, int))
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    value = int(_number(text, int))
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def positive_float(text: str) -> float:
    value = _number(text, float)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def probability(text: str) -> float:
    value = _number(text, float)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be within [0, 1], got {text}")
    return value


def latency_range(text: str) -> tuple[int, int]:
    """`50` or `10-200` (milliseconds)."""
    low, _, high = text.partition("-")
    bounds = (non_negative_int(low), non_negative_int(high or low))
    if bounds[0] > bounds[1]:
        raise argparse.ArgumentTypeError(f"LOW must not exceed HIGH, got {text}")
    return bounds


def header(text: str) -> tuple[str, str]:
    """`Name: value`."""
    name, sep, value = text.partition(":")
    name = name.strip()
    if not sep or not name or any(c.isspace() for c in name):
        raise argparse.ArgumentTypeError(f"expected 'Name: value', got {text.split(':')[0]!r}...")
    return name, value.strip()
