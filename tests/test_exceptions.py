"""raise_for_status: the status -> error class map, parsed error bodies, messages, httpx compatibility."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pipework import (
    ClientAuthenticationError,
    ConfigurationError,
    DeadlineExceededError,
    HttpResponseError,
    PipeworkError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceError,
    TooManyRequestsError,
    raise_for_status,
)


def _response(status: int, body: Any = None, **kwargs: Any) -> httpx.Response:
    request = httpx.Request("GET", "http://h.test/thing")
    if body is None:
        return httpx.Response(status, request=request, **kwargs)
    return httpx.Response(status, json=body, request=request, **kwargs)


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (401, ClientAuthenticationError),
        (403, ClientAuthenticationError),
        (404, ResourceNotFoundError),
        (409, ResourceExistsError),
        (412, ResourceModifiedError),
        (429, TooManyRequestsError),
        (500, ServiceError),
        (503, ServiceError),
        (599, ServiceError),
        (400, HttpResponseError),
        (418, HttpResponseError),
    ],
)
def test_status_maps_to_error_class(status: int, error_class: type[HttpResponseError]) -> None:
    """Each error status raises its class, which is also an httpx.HTTPStatusError carrying the response."""
    response = _response(status)
    with pytest.raises(error_class) as caught:
        raise_for_status(response)
    error = caught.value
    assert type(error) is error_class
    assert isinstance(error, httpx.HTTPStatusError)
    assert isinstance(error, PipeworkError)
    assert error.response is response
    assert error.request is response.request
    assert error.status_code == status
    assert str(error).startswith(f"{status} {response.reason_phrase}")


@pytest.mark.parametrize("status", [200, 201, 204, 301, 302])
def test_success_and_redirect_statuses_return_the_response(status: int) -> None:
    """Non-error statuses (other than 304) pass through unchanged."""
    response = _response(status)
    assert raise_for_status(response) is response


def test_rfc9457_problem_details_are_parsed() -> None:
    """A problem+json body gives code (type/title) and message (detail) in the error and its message."""
    body = {"type": "https://errors.test/out-of-credit", "title": "Out of credit", "detail": "Balance is 30"}
    with pytest.raises(HttpResponseError) as caught:
        raise_for_status(_response(403, body))
    error = caught.value
    assert error.error == body
    assert (error.error_code, error.error_message) == ("https://errors.test/out-of-credit", "Balance is 30")
    assert str(error) == "403 Forbidden (https://errors.test/out-of-credit): Balance is 30"


def test_odata_error_body_is_parsed() -> None:
    """`{"error": {"code", "message"}}` gives the code and message."""
    body = {"error": {"code": "ContainerNotFound", "message": "The container does not exist."}}
    with pytest.raises(ResourceNotFoundError) as caught:
        raise_for_status(_response(404, body))
    assert (caught.value.error_code, caught.value.error_message) == (
        "ContainerNotFound",
        "The container does not exist.",
    )
    assert str(caught.value) == "404 Not Found (ContainerNotFound): The container does not exist."


def test_title_only_problem_is_not_repeated() -> None:
    """A problem with only a title uses it as the message, not also as the code."""
    with pytest.raises(HttpResponseError) as caught:
        raise_for_status(_response(409, {"title": "Conflict on name"}))
    assert (caught.value.error_code, caught.value.error_message) == (None, "Conflict on name")


@pytest.mark.parametrize("content", [b"<html>oops</html>", b"", b"[1, 2]", b"\xff\xfe"])
def test_non_json_or_non_object_body_is_ignored(content: bytes) -> None:
    """A body that is not a JSON object leaves error fields empty and the message just the status."""
    response = httpx.Response(502, content=content, request=httpx.Request("GET", "http://h.test/"))
    with pytest.raises(ServiceError) as caught:
        raise_for_status(response)
    assert (caught.value.error, caught.value.error_code, caught.value.error_message) == (None, None, None)
    assert str(caught.value) == "502 Bad Gateway"


def test_unread_streamed_body_is_not_read() -> None:
    """raise_for_status never reads a streamed body behind the caller's back."""

    async def never() -> Any:
        raise AssertionError("body read")
        yield b""  # pragma: no cover

    response = httpx.Response(
        500, stream=httpx.ByteStream(b"x"), request=httpx.Request("GET", "http://h.test/")
    )
    with pytest.raises(ServiceError) as caught:
        raise_for_status(response)
    assert caught.value.error is None
    assert not hasattr(response, "_content")


def test_httpx_style_except_clauses_catch_pipework_errors() -> None:
    """except httpx.HTTPStatusError / httpx.TimeoutException / ValueError catch the matching pipework errors."""
    with pytest.raises(httpx.HTTPStatusError):
        raise_for_status(_response(500))
    request = httpx.Request("GET", "http://h.test/")
    assert isinstance(DeadlineExceededError("late", request=request), httpx.TimeoutException)
    assert isinstance(ConfigurationError("bad"), ValueError)
