"""The config.toml that tests which start a daemon (or load its settings) write: one shape,
so a new setting of the daemon reaches every such test from one place."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The "demo" connection on in-memory systems, seeded from the test fixture's records.
DEMO_CONNECTION = """
[connections.demo]
crm = { kind = "memory" }
afas = { kind = "memory" }
fixture = "systems.json"
"""

# Fast enough for a test to see several cycles, without the random jitter.
DAEMON_DEFAULTS: Mapping[str, int] = {
    "interval_seconds": 1,
    "jitter_seconds": 0,
    "shutdown_grace_seconds": 5,
}


def write_config(
    directory: Path,
    connections: str = DEMO_CONNECTION,
    *,
    status_port: int = 0,
    mappings: Path = ROOT / "mappings",
    sync: Mapping[str, int | str] | None = None,
    daemon: Mapping[str, int] | None = None,
) -> Path:
    """``directory``/config.toml on ``mappings`` (the shipped ones unless told) with
    ``connections``' tables; the status server on ``status_port`` (off at 0). ``sync`` and
    ``daemon`` add or override settings of those sections. The demo connection gets its
    fixture file beside it."""
    directory.mkdir(parents=True, exist_ok=True)
    if DEMO_CONNECTION in connections:
        shutil.copy(ROOT / "tests" / "fixtures" / "systems.json", directory / "systems.json")
    path = directory / "config.toml"
    path.write_text(
        f"""data_dir = "data"
[sync]
mappings = "{mappings}"
{settings(sync or {})}
[daemon]
{settings({**DAEMON_DEFAULTS, **(daemon or {})})}
[status]
enabled = {"true" if status_port else "false"}
port = {status_port}
{connections}""",
        encoding="utf-8",
    )
    return path


def settings(values: Mapping[str, int | str]) -> str:
    return "\n".join(f"{key} = {value}" for key, value in values.items())
