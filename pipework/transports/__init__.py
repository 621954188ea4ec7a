"""The httpx transports under the chain, and the test transport."""

from ._factory import DEFAULT_LIMITS, DEFAULT_TIMEOUT, create_transport
from ._scripted import ScriptedTransport, Step

__all__ = ["DEFAULT_LIMITS", "DEFAULT_TIMEOUT", "ScriptedTransport", "Step", "create_transport"]
