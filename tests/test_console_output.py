"""``syncd demo`` as an operator sees it: readable lines on a terminal, JSON lines in a pipe.

The demo runs as its own process, its stdout a pseudo-terminal (the stdlib's ``pty``) or
a pipe, until its first cycles of every entity are logged; then Ctrl-C stops it.
"""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from rich.text import Text

from syncd.sim.demo import placed
from tests.config_file import write_config
from tests.loopback import free_port

COMPANIES = 20
ENTITIES = ("customer", "supplier", "contact")
PATIENCE = 120.0  # seconds: a safety net for a stuck demo, not a measure of speed


def demo_config(directory: Path) -> Path:
    crm, afas = free_port(), free_port()
    return write_config(
        directory,
        f"""
[connections.demo]
crm = {{ kind = "hubspot", base_url = "http://127.0.0.1:{crm}", token = "SYNCD_DEMO_HUBSPOT_TOKEN", search_settle_seconds = 10 }}
afas = {{ kind = "afas", base_url = "http://127.0.0.1:{afas}/ProfitRestServices", token = "SYNCD_DEMO_AFAS_TOKEN" }}
""",  # noqa: E501
    )


@contextmanager
def demo(config: Path, stdout: int | IO[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "syncd.cli", "demo", "--config", str(config)]
    env = {**os.environ, "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(
        [*command, "--companies", str(COMPANIES)],
        stdout=stdout,
        stderr=subprocess.DEVNULL,
        cwd=config.parent,
        env=env,
    )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=60)  # reads what is left in a pipe, and closes it
        except subprocess.TimeoutExpired:
            process.kill()  # a demo that does not stop fails the test, and goes
            process.communicate()
            raise


def lines_until_cycles_end(read: Iterator[str]) -> list[str]:
    """Lines until each entity's first cycle has finished (a line naming its summary)."""
    lines: list[str] = []
    finished: set[str] = set()
    for line in read:
        lines.append(line)
        finished |= {e for e in ENTITIES if f"demo/{e}  cycle  " in line or _finished(line, e)}
        if finished == set(ENTITIES):
            return lines
    raise AssertionError(f"the demo stopped before its first cycles ended: {lines}")


def _parses_as_json(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def _finished(line: str, entity: str) -> bool:
    try:
        event = json.loads(line)
    except ValueError:
        return False
    return bool(event.get("event") == "cycle_finished" and event.get("entity") == entity)


def terminal_lines(master: int) -> Iterator[str]:
    """Lines read from the terminal's side of a pty, without their colours."""
    deadline, pending = time.monotonic() + PATIENCE, b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1.0)
        if not ready:
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the demo closed the terminal
            return
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for raw in complete:
            yield Text.from_ansi(raw.decode("utf-8").rstrip("\r")).plain


def piped_lines(pipe: IO[bytes]) -> Iterator[str]:
    for raw in pipe:
        yield raw.decode("utf-8").rstrip("\n")


def company_names() -> set[str]:
    return {str(fields["name"]) for fields, _ in placed(COMPANIES)}


def test_on_a_terminal_the_demo_prints_readable_lines_naming_companies(tmp_path: Path) -> None:
    config = demo_config(tmp_path)
    master, terminal = pty.openpty()
    try:
        with demo(config, terminal):
            os.close(terminal)  # the demo holds it now
            lines = lines_until_cycles_end(terminal_lines(master))
    finally:
        os.close(master)

    assert not any(_parses_as_json(line) for line in lines)
    named = [line for line in lines if any(name in line for name in company_names())]
    assert any("  linked  " in line for line in named)
    assert any("  created in " in line for line in named)


def test_in_a_pipe_the_demo_prints_json_lines(tmp_path: Path) -> None:
    config = demo_config(tmp_path)
    with demo(config, subprocess.PIPE) as process:
        assert process.stdout is not None
        lines = lines_until_cycles_end(piped_lines(process.stdout))

    events = [json.loads(line) for line in lines]  # every line, the banner on stderr
    linked = [e for e in events if e["event"] == "record_linked"]
    companies = [e for e in linked if e["entity"] != "contact"]
    assert companies
    assert {e["name"] for e in companies} <= company_names()
    assert all(e["name"] for e in linked)  # people by their names, when their cycle came
