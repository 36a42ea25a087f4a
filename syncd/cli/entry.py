"""The ``syncd`` command's entry point: parse, load the settings, run the command."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence

from syncd.cli import cycles
from syncd.cli.common import (
    EXIT_CLEAN,
    EXIT_ERROR,
)
from syncd.cli.parser import build_parser
from syncd.config import load_settings
from syncd.errors import SyncdError


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "sim":
        return cycles.sim(args)
    try:
        if args.command == "demo":
            return asyncio.run(cycles.demo(args))
        settings = load_settings(args.config, secrets=getattr(args, "secrets", True))
        code: int = asyncio.run(args.run(args, settings))
        return code
    except SyncdError as error:  # a configuration error, or a side or store failing
        print(f"syncd: {error}", file=sys.stderr)
    except KeyboardInterrupt:
        return EXIT_CLEAN
    return EXIT_ERROR
