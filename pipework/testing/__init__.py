"""What users need to test code built on pipework: zero-wait mode, a virtual clock, a loopback server."""

from ..transports import ScriptedTransport
from ._chaos import ChaosApp
from ._clock import VirtualClock, zero_wait
from ._server import serve

__all__ = [
    "ChaosApp",
    "ScriptedTransport",
    "VirtualClock",
    "serve",
    "zero_wait",
]
