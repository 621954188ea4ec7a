"""What the logging policies cost when logging is off: the default chain with and without them.

Contenders, each sending GETs with a read and checked body through one shared `httpx.MockTransport`:

- `chain without logging`: the default chain with HttpLoggingPolicy and NetworkTraceLoggingPolicy taken out;
- `default, logging WARNING`: the default chain as shipped, `pipework` loggers at WARNING (the policies only
  ask `isEnabledFor` and return) — target: within 5% of the line above;
- `default, logging INFO`: for information, one INFO record per request written to a NullHandler (what
  turning the HTTP log on costs: redaction, allowlists, the record).

Rounds are interleaved (the order rotates each round) and the medians compared. Writes the table to
benchmarks/results-logging.md.

    python -m benchmarks.bench_logging [--rounds 15] [--requests 2000] [--backend asyncio|trio]
    # or PIPEWORK_BENCH_ROUNDS / PIPEWORK_BENCH_REQUESTS
"""

from __future__ import annotations

import logging

import pipework
from benchmarks import _harness

URL = "http://bench.test/items/42?api-version=1&sig=secret"
BASE = "chain without logging"
TARGET = 1.05


async def run(rounds: int, requests: int) -> _harness.Results:
    """Interleaved rounds; returns the µs/request of every round for each contender."""
    mock = _harness.mock_transport()
    default = pipework.AsyncPipelineClient(transport=mock)
    kept = [
        policy
        for policy in default.pipeline.policies
        if not isinstance(policy, pipework.HttpLoggingPolicy | pipework.NetworkTraceLoggingPolicy)
    ]
    if len(kept) != len(default.pipeline.policies) - 2:
        raise AssertionError(f"the default chain lacks the logging policies: {default.pipeline!r}")
    without = pipework.AsyncPipelineClient(transport=mock, policies=kept)
    logger = logging.getLogger("pipework")
    null = logging.NullHandler()
    logger.addHandler(null)
    logger.propagate = False
    contenders = {
        BASE: (_harness.getter(without, URL), logging.WARNING),
        "default, logging WARNING": (_harness.getter(default, URL), logging.WARNING),
        "default, logging INFO": (_harness.getter(default, URL), logging.INFO),
    }

    def set_level(name: str) -> None:  # once per run: setLevel clears every logger's level cache
        logger.setLevel(contenders[name][1])

    try:
        sends = {name: send for name, (send, _) in contenders.items()}
        return await _harness.interleaved(sends, rounds, requests, before=set_level)
    finally:
        logger.removeHandler(null)
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
        await default.aclose()
        await without.aclose()


def report(measured: _harness.Run) -> bool:
    """Print and write medians and ratios to the chain without logging; True when WARNING meets the target."""
    medians = _harness.medians(measured.results)
    ratio = medians["default, logging WARNING"] / medians[BASE]
    met = ratio <= TARGET
    _harness.publish(
        "logging",
        "Logging policies, logging off and on (httpx.MockTransport, body read and checked)",
        _harness.compare(
            measured.results,
            BASE,
            "µs/request",
            targets={"default, logging WARNING": f"<= {TARGET:.2f}x {_harness.verdict(ratio <= TARGET)}"},
        ),
        measured.note,
        [f"logging off costs x{ratio:.3f} (target <= {TARGET:.2f}): {_harness.verdict(met)}"],
    )
    return met


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    report(_harness.in_process("logging", __doc__, argv, run, rounds=15, requests=2000))


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
