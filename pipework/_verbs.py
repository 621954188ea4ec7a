"""The HTTP verb helpers, written once for both clients: each is `request()` with the method filled in.

`AsyncPipelineClient.request` is a coroutine function, so its verbs return the coroutine to await;
`PipelineClient.request` returns the response, and so do its verbs.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar, Unpack

import httpx

from .pipeline import CallOptions

__all__ = ["TimeoutTypes", "Verbs"]

TimeoutTypes = httpx.Timeout | float | None
R = TypeVar("R")


class Verbs(Generic[R]):
    """`get`, `head`, `options`, `delete`, `post`, `put` and `patch` over the subclass's `request()`."""

    __slots__ = ()

    def request(
        self,
        method: str,
        url: httpx.URL | str,
        *,
        params: Any = None,
        headers: Any = None,
        content: Any = None,
        data: Any = None,
        files: Any = None,
        json: Any = None,
        timeout: TimeoutTypes | None = None,
        **options: Unpack[CallOptions],
    ) -> R:
        """Build and send a request (defined by each client)."""
        raise NotImplementedError

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
