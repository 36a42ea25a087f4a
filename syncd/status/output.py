"""Where the status events of ``run``, ``once`` and ``demo`` go on stdout: JSON lines for
machines (``docker logs``, log shippers), or readable lines for a person at a terminal."""

from __future__ import annotations

from enum import StrEnum
from typing import TextIO

from rich.console import Console


class LogFormat(StrEnum):
    AUTO = "auto"  # console on a terminal, JSON lines otherwise
    CONSOLE = "console"
    JSON = "json"


def console_for(log_format: LogFormat, stream: TextIO) -> Console | None:
    """A console on ``stream`` when events should be read by a person there, else None
    (JSON lines). Colour only on a terminal; rich honours NO_COLOR."""
    wanted = log_format is LogFormat.CONSOLE or (log_format is LogFormat.AUTO and stream.isatty())
    if not wanted:
        return None
    # soft_wrap: an event stays one line, however narrow the terminal.
    return Console(file=stream, soft_wrap=True, highlight=False)
