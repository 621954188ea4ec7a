"""What users need to test code built on pipework: zero-wait mode, a virtual clock, a loopback server."""

from ..transports import ScriptedTransport
from ._clock import VirtualClock, zero_wait
from ._server import serve

__all__ = ["ScriptedTransport", "VirtualClock", "serve", "zero_wait"]
