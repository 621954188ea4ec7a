"""`pipework get|post|put URL`: one request through the full pipeline, printed with its retry history.

Exit status: 0 for a status below 400, 4 for 4xx, 5 for 5xx, 1 when the call failed without a response,
2 for bad arguments. Secrets in the request headers, response headers and URLs are shown as REDACTED.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

import anyio
import httpx
from pydantic import ValidationError

from .. import AsyncPipelineClient, RetryConfig, history
from .._redact import redact_headers, redact_url
from ..pipeline import AttemptRecord

__all__ = ["run_request"]

_FLAG_OF = {"total": "--retry-total", "backoff_factor": "--backoff", "timeout": "--timeout"}


def _retry_config(args: argparse.Namespace, parser: argparse.ArgumentParser) -> RetryConfig:
    given = {"total": args.retry_total, "backoff_factor": args.backoff, "timeout": args.timeout}
    try:
        return RetryConfig(**{name: value for name, value in given.items() if value is not None})
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "timeout"
        message = str(error["msg"]).removeprefix("Value error, ")
        parser.error(f"argument {_FLAG_OF.get(field, '--timeout')}: {message}")


def _url(text: str, parser: argparse.ArgumentParser) -> httpx.URL:
    if "://" not in text:
        text = f"http://{text}"
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as exc:
        parser.error(f"argument url: {exc}")
    if url.scheme not in ("http", "https") or not url.host:
        parser.error(f"argument url: expected an http(s) URL, got {redact_url(url)!r}")
    return url


def _body(args: argparse.Namespace, parser: argparse.ArgumentParser) -> tuple[bytes | None, str | None]:
    text: str | None = getattr(args, "body", None)
    if text is None:
        return None, None
    if text == "-":
        content = sys.stdin.buffer.read()
    elif text.startswith("@"):
        try:
            with open(text[1:], "rb") as file:
                content = file.read()
        except OSError as exc:
            parser.error(f"argument body: cannot read {text[1:]!r}: {exc.strerror}")
    else:
        content = text.encode()
    content_type = args.content_type
    if content_type is None:
        try:
            json.loads(content)
            content_type = "application/json"
        except ValueError:
            content_type = "text/plain; charset=utf-8"
    return content, content_type


def run_request(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Send the request, print the outcome; returns the exit status (see the module docstring)."""
    config = _retry_config(args, parser)
    url = _url(args.url, parser)
    content, content_type = _body(args, parser)
    headers = httpx.Headers(args.header)
    if content_type is not None and "content-type" not in headers:
        headers["content-type"] = content_type
    if args.verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        retry_logger = logging.getLogger("pipework.retry")
        retry_logger.addHandler(handler)
        retry_logger.setLevel(logging.INFO)
        print(f"> {args.command.upper()} {redact_url(url)}", file=sys.stderr)
        for name, value in redact_headers(headers).items():
            print(f"> {name}: {value}", file=sys.stderr)
    timeout = httpx.Timeout(min(config.timeout, 10.0), read=min(config.timeout, 60.0))
    return anyio.run(_send, args, config, url, headers, content, timeout)


async def _send(
    args: argparse.Namespace,
    config: RetryConfig,
    url: httpx.URL,
    headers: httpx.Headers,
    content: bytes | None,
    timeout: httpx.Timeout,
) -> int:
    async with AsyncPipelineClient(retry_policy=config, timeout=timeout) as client:
        try:
            response = await client.request(args.command.upper(), url, headers=headers, content=content)
        except httpx.HTTPError as exc:
            attempts = history(exc)
            message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            if args.json:
                print(json.dumps({"error": message, "history": _history_json(attempts)}, indent=2))
            else:
                print(f"pipework {args.command}: error: {message}", file=sys.stderr)
                _print_history(attempts)
            return 1
    attempts = history(response)
    if args.json:
        print(json.dumps(_response_json(response, attempts), indent=2))
    else:
        print(f"HTTP/1.1 {response.status_code} {response.reason_phrase}")
        for name, value in redact_headers(response.headers).items():
            print(f"{name}: {value}")
        print()
        body = _body_json(response)
        print(json.dumps(body, indent=2) if not isinstance(body, str) else body)
        _print_history(attempts)
    return 0 if response.status_code < 400 else response.status_code // 100


def _body_json(response: httpx.Response) -> Any:
    if "json" in response.headers.get("content-type", ""):
        try:
            return response.json()
        except ValueError:
            pass
    return response.text


def _history_json(attempts: tuple[AttemptRecord, ...]) -> list[dict[str, Any]]:
    return [
        {
            "attempt": record.number,
            "method": record.method,
            "url": record.url,
            "outcome": record.outcome,
            "status": record.status,
            "error": record.error,
            "elapsed": round(record.elapsed, 4),
            "delay": record.delay,
            "note": record.note,
        }
        for record in attempts
    ]


def _response_json(response: httpx.Response, attempts: tuple[AttemptRecord, ...]) -> dict[str, Any]:
    return {
        "status": response.status_code,
        "headers": redact_headers(response.headers),
        "body": _body_json(response),
        "history": _history_json(attempts),
    }


def _print_history(attempts: tuple[AttemptRecord, ...]) -> None:
    retried = sum(1 for record in attempts if record.note == "retried")
    redirected = sum(
        1 for record in attempts[:-1] if record.status is not None and 300 <= record.status < 400
    )
    hops = f", {redirected} redirect(s) followed" if redirected else ""
    print(f"\n# {len(attempts)} attempt(s), {retried} retried{hops}", file=sys.stderr)
    for record in attempts:
        result = str(record.status) if record.status is not None else record.error or "-"
        waited = f", waited {record.delay:g} s" if record.delay else ""
        note = f" ({record.note})" if record.note and record.note != "retried" else ""
        print(
            f"#   {record.number}. {record.method} {record.url} -> {result} [{record.outcome}]"
            f" in {1000 * record.elapsed:.0f} ms{waited}{note}",
            file=sys.stderr,
        )
