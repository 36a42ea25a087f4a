"""The status log: status events as JSON lines, and as lines a person reads.

The state store is the record of what happened (events are committed in the same
transaction as the change they describe); the log file and stdout mirror it, one JSON
object per line, for ``docker logs`` and log shippers.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from deepdiff import DeepDiff
from rich.console import Console

from syncd.events import EventName
from syncd.state.rows import StatusEvent
from syncd.status.console import cycle_summary, event_line

LOG_FILE = "status.log"


def event_as_dict(event: StatusEvent) -> dict[str, Any]:
    return {
        "at": event.at.isoformat().replace("+00:00", "Z") if event.at else None,
        "id": event.id,
        "event": event.name,
        "connection": event.connection,
        "entity": event.entity,
        "record": event.record,
        **event.data,
    }


def event_as_json(event: StatusEvent) -> str:
    return json.dumps(event_as_dict(event), ensure_ascii=False, sort_keys=False, default=str)


def event_as_text(event: StatusEvent, record: str | None = None) -> str:
    """One line (more for field changes) that an operator reads; ``record``: the record
    as people know it (:mod:`syncd.status.record_names`), instead of its side and id."""
    at = event.at.strftime("%Y-%m-%d %H:%M:%S") if event.at else "-"
    where = "/".join(p for p in (event.connection, event.entity) if p)
    head = f"{at}  {where}  {event.name}"
    if record is not None:
        head += f"  {record}"
    elif event.record:
        side = event.data.get("side")
        head += f"  {side} {event.record}" if side else f"  {event.record}"
    if event.name == EventName.RECORD_CHANGED:
        return "\n".join([head, *field_diff(event.data.get("fields", {}))])
    details = _details(event)
    return head + (f"  {details}" if details else "")


def _details(event: StatusEvent) -> str:
    data = event.data
    if event.name == EventName.CYCLE_FINISHED:
        return cycle_summary(data)
    keys = ("reason", "message", "error", "field", "guard", "afas_id", "source", "by")
    return " ".join(f"{k}={data[k]}" for k in keys if data.get(k) is not None)


def field_diff(fields: dict[str, Any]) -> list[str]:
    """Before/after per field, in deepdiff's words, each with the rule that decided."""
    lines = []
    for name, change in fields.items():
        # Blank is shown as "" so deepdiff reports a value change, not a type change.
        before = {name: change.get("before") or ""}
        after = {name: change.get("after") or ""}
        for line in DeepDiff(before, after).pretty().splitlines():
            lines.append(f"    {line.replace('root', '', 1)}" + _rule(change))
    return lines


def _rule(change: dict[str, Any]) -> str:
    return f"  ({change['rule']})" if change.get("rule") else ""


class StatusLog:
    """Writes events as JSON lines to a rotating file and, optionally, a stream; or, with
    ``console``, as lines a person reads there (:mod:`syncd.status.console`) instead."""

    def __init__(
        self,
        directory: Path | None,
        stream: TextIO | None = sys.stdout,
        *,
        console: Console | None = None,
        max_bytes: int = 10_000_000,
        backups: int = 5,
    ) -> None:
        self._console = console
        self.path: Path | None = None
        self._logger = logging.getLogger(f"syncd.status.{id(self)}")
        self._logger.propagate = False
        self._logger.setLevel(logging.INFO)
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            path = directory / LOG_FILE
            path.touch(mode=0o600, exist_ok=True)  # owner-only before anything is written
            self.path = path
            handler = logging.handlers.RotatingFileHandler(
                path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
            )
            self._logger.addHandler(handler)
        if stream is not None and console is None:
            self._logger.addHandler(logging.StreamHandler(stream))
        self.last_id = 0

    def last_logged_id(self) -> int | None:
        """The id of the newest event in the file (or its newest backup), if any.

        A daemon killed between committing events and writing them here picks up from
        this id when it starts again, so the file misses nothing the store holds.
        """
        if self.path is None:
            return None
        for path in (self.path, self.path.with_name(f"{self.path.name}.1")):
            found = _last_id(path)
            if found is not None:
                return found
        return None

    def write(self, events: Iterable[StatusEvent]) -> None:
        """Logs the events newer than the last logged: lanes whose cycles end together
        each read the new events from the store, and each event is logged once."""
        for event in events:
            if (event.id or 0) <= self.last_id:
                continue
            self._logger.info(event_as_json(event))
            if self._console is not None and (line := event_line(event)) is not None:
                self._console.print(line)
            self.last_id = event.id or 0

    def note(self, event: StatusEvent) -> None:
        """Log an event that is not in the store (a quiet poll): as a JSON line (none on
        a console), without an id, so the log's place in the store's events stays."""
        self._logger.info(event_as_json(event))

    def close(self) -> None:
        for handler in list(self._logger.handlers):
            handler.close()
            self._logger.removeHandler(handler)


def _last_id(path: Path, tail: int = 65_536) -> int | None:
    """The id of the last complete JSON line of ``path`` (read from its end)."""
    try:
        with path.open("rb") as file:
            file.seek(max(file.seek(0, 2) - tail, 0))
            lines = file.read().splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        try:
            found = json.loads(line).get("id")
        except (ValueError, AttributeError):
            continue  # a line cut off by the kill, or not one of ours
        if isinstance(found, int):
            return found
    return None
