"""The HTTP verb helpers, written once for both clients: each is `request()` with the method filled in.

`AsyncPipelineClient.request` is a coroutine function, so its verbs return the coroutine to await;
`PipelineClient.request` returns the response, and so do its verbs.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, Unpack

import httpx

from .pipeline import CallOptions

__all__ = ["TimeoutTypes", "Verbs", "pop_request_parts", "same_parameters_as"]

TimeoutTypes = httpx.Timeout | float | None
R = TypeVar("R")
_P = ParamSpec("_P")
_S = TypeVar("_S")

_PARTS = ("params", "headers", "content", "data", "files", "json", "timeout")
"""`build_request`'s keyword arguments: what `request()`/`stream()` take besides the per-call options."""


def same_parameters_as(
    source: Callable[Concatenate[Any, _P], Any],
) -> Callable[[Callable[Concatenate[_S, ...], R]], Callable[Concatenate[_S, _P], R]]:
    """Give a method written `(self, *args, **kwargs)` the parameters of the method `source`, for type checkers
    and `help()`: one parameter list, written once, where the method forwards to `source` or mirrors it."""

    def mirror(method: Callable[Concatenate[_S, ...], R]) -> Callable[Concatenate[_S, _P], R]:
        method.__signature__ = inspect.signature(source)  # type: ignore[attr-defined]
        return method

    return mirror


def pop_request_parts(arguments: dict[str, Any]) -> dict[str, Any]:
    """Take `build_request`'s keyword arguments out of `arguments`, leaving the per-call options."""
    return {name: arguments.pop(name) for name in _PARTS if name in arguments}


class Verbs(Generic[R]):
    """`get`, `head`, `options`, `delete`, `post`, `put` and `patch` over the subclass's `request()`."""

    __slots__ = ()

    request: Callable[..., R]
    """Build and send a request: each client's own `request()` (its parameters are AsyncPipelineClient's)."""

    def get(self, url: httpx.URL | str, *, params: Any = None, headers: Any = None,
            timeout: TimeoutTypes | None = None, **options: Unpack[CallOptions]) -> R:  # fmt: skip
        """GET `url`. Raises as `send()` does."""
        return self.request("GET", url, params=params, headers=headers, timeout=timeout, **options)

    def head(self, url: httpx.URL | str, *, params: Any = None, headers: Any = None,
             timeout: TimeoutTypes | None = None, **options: Unpack[CallOptions]) -> R:  # fmt: skip
        """HEAD `url`. Raises as `send()` does."""
        return self.request("HEAD", url, params=params, headers=headers, timeout=timeout, **options)

    def options(self, url: httpx.URL | str, *, params: Any = None, headers: Any = None,
                timeout: TimeoutTypes | None = None, **options: Unpack[CallOptions]) -> R:  # fmt: skip
        """OPTIONS `url`. Raises as `send()` does."""
        return self.request("OPTIONS", url, params=params, headers=headers, timeout=timeout, **options)

    def delete(self, url: httpx.URL | str, *, params: Any = None, headers: Any = None,
               timeout: TimeoutTypes | None = None, **options: Unpack[CallOptions]) -> R:  # fmt: skip
        """DELETE `url`. Raises as `send()` does."""
        return self.request("DELETE", url, params=params, headers=headers, timeout=timeout, **options)

    def post(self, url: httpx.URL | str, *, content: Any = None, data: Any = None, files: Any = None,
             json: Any = None, params: Any = None, headers: Any = None, timeout: TimeoutTypes | None = None,
             **options: Unpack[CallOptions]) -> R:  # fmt: skip
        """POST to `url`. Raises as `send()` does."""
        return self.request("POST", url, content=content, data=data, files=files, json=json, params=params,
                            headers=headers, timeout=timeout, **options)  # fmt: skip

    def put(self, url: httpx.URL | str, *, content: Any = None, data: Any = None, files: Any = None,
            json: Any = None, params: Any = None, headers: Any = None, timeout: TimeoutTypes | None = None,
            **options: Unpack[CallOptions]) -> R:  # fmt: skip
        """PUT to `url`. Raises as `send()` does."""
        return self.request("PUT", url, content=content, data=data, files=files, json=json, params=params,
                            headers=headers, timeout=timeout, **options)  # fmt: skip

    def patch(self, url: httpx.URL | str, *, content: Any = None, data: Any = None, files: Any = None,
              json: Any = None, params: Any = None, headers: Any = None, timeout: TimeoutTypes | None = None,
              **options: Unpack[CallOptions]) -> R:  # fmt: skip
        """PATCH `url`. Raises as `send()` does."""
        return self.request("PATCH", url, content=content, data=data, files=files, json=json, params=params,
                            headers=headers, timeout=timeout, **options)  # fmt: skip
