"""The httpx transports under the chain, and the test transport.

`AiohttpTransport` (extra `aiohttp`, asyncio only) is imported on first access, so `import pipework`
never imports aiohttp.
"""

from typing import TYPE_CHECKING, Any

from ._factory import DEFAULT_LIMITS, DEFAULT_TIMEOUT, create_transport
from ._proxy import NoProxy, ProxyRouter
from ._scripted import ScriptedTransport, Step

if TYPE_CHECKING:
    from ._aiohttp import AiohttpTransport

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_TIMEOUT",
    "AiohttpTransport",
    "NoProxy",
    "ProxyRouter",
    "ScriptedTransport",
    "Step",
    "create_transport",
]


def __getattr__(name: str) -> Any:
    if name == "AiohttpTransport":
        try:
            from ._aiohttp import AiohttpTransport
        except ImportError as exc:
            raise ImportError("AiohttpTransport needs aiohttp: pip install 'pipework[aiohttp]'") from exc
        return AiohttpTransport
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
