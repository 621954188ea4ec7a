"""The `pipework` command: `demo` (the library against a local chaos server), `get`/`post`/`put`, `chaos`.

Bad arguments print one line naming the flag and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from .._version import __version__
from ._args import header, latency_range, non_negative_int, positive_float, positive_int, probability

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (no usage dump): `pipework get: error: argument --retry-total: ...`."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The parser of every subcommand."""
    parser = _Parser(prog="pipework", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"pipework {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{demo,get,post,put,chaos}")

    demo = commands.add_parser("demo", help="the same workload through three clients against a chaos server")
    demo.add_argument("--requests", type=positive_int, default=200, help="calls per client (default 200)")
    demo.add_argument("--concurrency", type=positive_int, default=20, help="calls in flight (default 20)")
    demo.add_argument("--fail-rate", type=probability, default=0.3, help="fault probability (default 0.3)")
    demo.add_argument("--seed", type=int, default=1, help="seed of the workload and the faults (default 1)")
    demo.add_argument("-v", "--verbose", action="store_true", help="show the retry log lines")

    for verb in ("get", "post", "put"):
        command = commands.add_parser(
            verb,
            help=f"one {verb.upper()} request through the full pipeline",
            epilog="exit status: 0 below 400, 4 for a 4xx, 5 for a 5xx, 1 without a response, 2 for bad arguments",
        )
        command.add_argument("url", help="http(s) URL (the scheme defaults to http://)")
        if verb != "get":
            command.add_argument("body", nargs="?", help="the body: text, @file, or - for stdin")
            command.add_argument("--content-type", help="default: application/json if the body is JSON")
        command.add_argument(
            "-H", "--header", type=header, action="append", default=[], help="'Name: value' (repeatable)"
        )
        command.add_argument("--retry-total", type=non_negative_int, help="retries after the first attempt")
        command.add_argument("--backoff", type=float, help="backoff factor, seconds (default 0.8)")
        command.add_argument("--timeout", type=positive_float, help="deadline of the whole call, seconds")
        command.add_argument("--json", action="store_true", help="print the result as one JSON document")
        command.add_argument("-v", "--verbose", action="store_true", help="show the request and retry log")

    chaos = commands.add_parser("chaos", help="serve the fault-injecting test server on 127.0.0.1")
    chaos.add_argument("--port", type=non_negative_int, default=8765, help="default 8765")
    chaos.add_argument("--fail-rate", type=probability, default=0.0, help="random fault probability")
    chaos.add_argument("--latency-ms", type=latency_range, default=(0, 0), help="N or LOW-HIGH, per request")
    chaos.add_argument("--seed", type=int, default=0, help="seed of the random faults")
    chaos.add_argument("--max-faults", type=non_negative_int, default=3, help="faults per key at most")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            from ._demo import run_demo

            return run_demo(args)
        if args.command == "chaos":
            from ._chaos import run_chaos

            return run_chaos(args)
        from ._http import run_request

        return run_request(args, parser)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except ImportError as exc:  # uvicorn (the chaos server) is in the cli extra
        print(f"pipework {args.command}: error: {exc}; install pipework[cli]", file=sys.stderr)
        return 1
