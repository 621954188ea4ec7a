"""What users need to test code built on pipework: zero-wait mode, a virtual clock, a loopback server,
in-process fault injection."""

from ..transports import ScriptedTransport
from ._chaos import ChaosApp
from ._clock import VirtualClock, zero_wait
from ._injection import FaultConfig, FaultInjectionPolicy, FaultInjectionTransport, FaultStep
from ._server import serve

__all__ = [
    "ChaosApp",
    "FaultConfig",
    "FaultInjectionPolicy",
    "FaultInjectionTransport",
    "FaultStep",
    "ScriptedTransport",
    "VirtualClock",
    "serve",
    "zero_wait",
]
