"""`pipework chaos`: serve ChaosApp with uvicorn on 127.0.0.1 until interrupted."""

from __future__ import annotations

import argparse

from ..testing import ChaosApp

__all__ = ["run_chaos"]

_ROUTES = """\
routes:
  /fault?id=K&script=503;retry-after=1,reset-after,200   scripted faults per key (or header x-chaos-script)
      steps: STATUS[;retry-after=S|;retry-after-date=S|;retry-after-ms=MS], reset-before, reset-after,
             truncate, slow=MS, redirect=307
  /echo   /redirect?to=/echo&status=302   /auth (Bearer {token})
  GET /_counters (arrivals, executions, replays, faults per key), DELETE /_counters to reset
  any other path: random faults (fail rate {fail_rate}, seed {seed}, at most {max_faults} per key)"""


def run_chaos(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C; returns 0.

    Raises:
        ImportError: uvicorn is missing (`pip install 'pipework[cli]'`).
    """
    import uvicorn

    app = ChaosApp(
        fail_rate=args.fail_rate, seed=args.seed, max_faults=args.max_faults, latency_ms=args.latency_ms
    )
    print(f"pipework chaos server on http://127.0.0.1:{args.port}  (Ctrl-C to stop)")
    print(
        _ROUTES.format(
            token="chaos-token", fail_rate=args.fail_rate, seed=args.seed, max_faults=args.max_faults
        )
    )
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", lifespan="off")
    return 0
