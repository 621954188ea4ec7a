"""Request bodies that can be sent again: what is replayable, and a file body that rewinds itself."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import IO, Any

import anyio.to_thread
import httpx

__all__ = ["FileStream", "bodiless_request", "declare_length", "is_replayable", "request_content"]

CHUNK = 64 * 1024

try:  # httpx's multipart stream re-renders its fields (and seeks file fields to 0) on every iteration
    from httpx._multipart import MultipartStream as _Multipart

    _REPLAYABLE: tuple[type, ...] = (httpx.ByteStream, _Multipart)
except ImportError:  # pragma: no cover - a future httpx without the private module
    _REPLAYABLE = (httpx.ByteStream,)


_EMPTY = httpx.ByteStream(b"")  # immutable: one instance serves every body-less request
_LENGTH_METHODS = ("POST", "PUT", "PATCH")


def bodiless_request(method: str, url: httpx.URL, headers: Any, extensions: dict[str, Any]) -> httpx.Request:
    """The request `httpx.Request(method, url, headers=headers, extensions=extensions)` builds, at half its cost.

    For a request without content, data, files, json or params: the same method, URL, headers (Host, then
    Content-Length: 0 for POST/PUT/PATCH, unless given, before the caller's) and an empty, read body;
    httpx's general path (encode the body, prepare the headers twice, read the stream) is skipped.
    """
    method = method.upper()
    auto: list[tuple[bytes, bytes]] = []
    if headers is None:  # the common case: nothing to look up
        if url.host:
            auto.append((b"Host", url.netloc))
        if method in _LENGTH_METHODS:
            auto.append((b"Content-Length", b"0"))
        request = httpx.Request(method, url, headers=auto, stream=_EMPTY)
    else:
        given = httpx.Headers(headers)
        if url.host and "Host" not in given:
            auto.append((b"Host", url.netloc))
        if method in _LENGTH_METHODS and "Content-Length" not in given and "Transfer-Encoding" not in given:
            auto.append((b"Content-Length", b"0"))
        request = httpx.Request(method, url, headers=auto + given.raw if auto else given, stream=_EMPTY)
    request.url = url  # the caller's (cached) object, equal to httpx's copy: transports cache by identity
    request.extensions = extensions  # (httpx would copy the dict: it is the caller's fresh one)
    request._content = b""  # what `request.read()` sets for a body-less request (its stream is already bytes)
    return request


class FileStream(httpx.AsyncByteStream):
    """An upload from a seekable binary file: every iteration starts from the file's position at creation.

    So a retried or redirected request sends the whole body again, never the empty remainder. `length` is
    what lay between that position and the file's end when the request was built (None if the file cannot
    tell): the request says so in Content-Length rather than going chunked (object stores refuse chunked
    uploads), and no more than `length` bytes are ever sent. Reads run in a worker thread, so a slow disk
    never blocks the event loop.
    """

    def __init__(self, file: IO[bytes]) -> None:
        self.file = file
        self.start = file.tell()
        self.length = _remaining(file, self.start)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.file.seek(self.start)
        left = self.length
        while left is None or left > 0:
            chunk = await anyio.to_thread.run_sync(
                self.file.read, CHUNK if left is None else min(CHUNK, left)
            )
            if not chunk:
                return
            if left is not None:
                left -= len(chunk)
            yield chunk


def _remaining(file: IO[bytes], start: int) -> int | None:
    try:
        end = file.seek(0, os.SEEK_END)
        file.seek(start)
    except (OSError, ValueError):
        return None
    return max(0, end - start) if isinstance(end, int) else None


def request_content(content: Any) -> Any:
    """Wrap a seekable binary file in a FileStream (httpx would send it once); leave anything else as is."""
    if hasattr(content, "read") and hasattr(content, "seek") and hasattr(content, "tell"):
        try:
            content.tell()
        except (OSError, ValueError):
            return content  # a pipe or socket pretending to be a file: one-shot
        return FileStream(content)
    return content


def declare_length(request: httpx.Request, content: Any, given: Any) -> None:
    """Give a file upload of known length a Content-Length instead of the chunked encoding httpx chose.

    Only when the caller set neither header (`given`: the headers passed to build the request).
    """
    if not isinstance(content, FileStream) or content.length is None:
        return
    if given is not None and "Transfer-Encoding" in httpx.Headers(given):
        return
    if request.headers.get("Transfer-Encoding") == "chunked":
        del request.headers["Transfer-Encoding"]
        request.headers["Content-Length"] = str(content.length)


def is_replayable(request: httpx.Request) -> bool:
    """True if sending `request` again sends the same body (bytes, form, multipart, a rewinding file)."""
    stream = request.stream
    if isinstance(getattr(stream, "_stream", None), FileStream):  # httpx wraps `content=` in its own stream
        return True
    return isinstance(stream, (*_REPLAYABLE, FileStream)) or hasattr(request, "_content")
