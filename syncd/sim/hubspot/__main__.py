"""``python -m syncd.sim.hubspot --port 8090 [--seed FILE] [--token TOKEN]``.

The same as ``syncd sim hubspot``: the simulator, standalone, until interrupted.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path

from syncd.sim.hubspot import REALISTIC, SimConfig, serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m syncd.sim.hubspot", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--seed", type=Path, help="JSON file of companies, or a syncd fixture")
    parser.add_argument("--token", help="accept only this Bearer token (default: any)")
    parser.add_argument(
        "--search-lag", type=float, default=REALISTIC.search_lag, help="seconds (default 3)"
    )
    args = parser.parse_args(argv)
    config = SimConfig(**{**asdict(REALISTIC), "search_lag": args.search_lag})
    serve(args.host, args.port, seed=args.seed, token=args.token, config=config)


if __name__ == "__main__":
    main()
