"""The ``syncd`` command line: one cycle, the plan, and what an operator asks afterwards.

:mod:`.parser` holds the commands and their options; :mod:`.cycles`, :mod:`.reading`
and :mod:`.settling` run them; :mod:`.entry` is ``main``.
"""

from syncd.cli.common import EXIT_CLEAN, EXIT_ERROR, EXIT_NOT_CLEAN
from syncd.cli.entry import main
from syncd.cli.parser import build_parser

__all__ = ["EXIT_CLEAN", "EXIT_ERROR", "EXIT_NOT_CLEAN", "build_parser", "main"]
