"""Two systems in one JSON file: load them as two memory gateways, save them back.

A fixture holds the native rows of both sides, per entity, as each system's read API
shows them (the native field names of the mappings in ``mappings/``)::

    {
      "comment": "optional, free text",
      "crm": {
        "customer": [
          {"hs_object_id": "9000000001", "hs_lastmodifieddate": "2025-03-01T09:30:00Z",
           "name": "Bakkerij De Korenaar B.V.", ...}
        ],
        "supplier": []
      },
      "afas": {
        "customer": [
          {"DebtorId": "10001", "ModifiedDate": "2025-02-11T14:05:00+01:00",
           "DebtorName": "Bakkerij De Korenaar B.V.", ...}
        ]
      }
    }

Rules, each checked on load (all problems are reported at once, as a ConfigError naming
the file and the JSON path of each problem):

* The top level has ``crm`` and ``afas`` (both optional) and may have ``comment``.
* Under a side, each key is an entity; its value is a list of rows. An entity that is
  not synced (not in the mappings given) is left alone, and saved back as it was.
* A row is an object of native field names to JSON scalars (string, number, true/false,
  null). It must carry its id (a non-empty string, unique per side and entity) and its
  modification time (ISO 8601 with a UTC offset or ``Z``), under the names the mapping's
  ``[crm]`` / ``[afas]`` side spec gives. The correlation field is an ordinary field.
  The inactive flag (``archived`` for the CRM, ``Blocked`` for AFAS), when present, is
  true or false; a true row is stored but hidden from the engine (archived / blocked).
* Field values are not checked against the mapping: a row the mapping cannot read is
  loaded as it is, and the gateway hands it to the engine as a rejected record.

:func:`save_fixture` writes the gateways' current state in the same format (rows ordered
by id, times in UTC, keeping the ``comment`` of the file it replaces) atomically: a
temporary file beside it, then renamed over it. So ``syncd once --fixture f.json``, run
again and again, behaves like two real systems that remember what was written to them.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from syncd.errors import ConfigError, Problem
from syncd.gateways.memory import MemoryGateway
from syncd.gateways.native_tables import DEFAULT_INACTIVE_FIELD, NativeRow
from syncd.mapping import KNOWN_ENTITIES, EntityMapping
from syncd.records import Side

_TOP_LEVEL = {"comment", *(side.value for side in Side)}
_SIMPLE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def load_fixture(
    path: Path,
    mappings: Mapping[str, EntityMapping],
    *,
    clock: Callable[[], datetime] | None = None,
    page_size: int = 100,
) -> tuple[MemoryGateway, MemoryGateway]:
    """Read a fixture file into a (crm, afas) pair of memory gateways."""
    gateways = {side: MemoryGateway(side, mappings, clock, page_size=page_size) for side in Side}
    reader = _Reader(path)
    document = reader.parse()
    if document is not None:
        for side, entity, rows in reader.tables(document, mappings):
            gateway = gateways[side]
            for row in rows:
                gateway.put(entity, row)
    if reader.problems:
        raise ConfigError(reader.problems)
    return gateways[Side.CRM], gateways[Side.AFAS]


def save_fixture(path: Path, crm: MemoryGateway, afas: MemoryGateway) -> None:
    """Write both gateways' rows to ``path`` (a temporary file, then renamed over it)."""
    if crm.side is not Side.CRM or afas.side is not Side.AFAS:
        raise ValueError("save_fixture takes the CRM gateway first, then the AFAS gateway")
    path = Path(path)
    document: dict[str, object] = {}
    before = _document_at(path)
    comment = before.get("comment")
    if isinstance(comment, str):
        document["comment"] = comment
    for gateway in (crm, afas):
        kept = before.get(gateway.side.value)
        unsynced = {
            entity: rows
            for entity, rows in (kept.items() if isinstance(kept, dict) else ())
            if entity not in gateway.entities
        }
        synced = {entity: gateway.rows(entity) for entity in gateway.entities}
        document[gateway.side.value] = {**synced, **unsynced}
    text = json.dumps(document, indent=2, ensure_ascii=False, default=_json_default) + "\n"
    _write_atomically(path, text)


def _document_at(path: Path) -> dict[str, object]:
    """The fixture file at ``path`` (empty if there is none), to keep its comment and
    the tables of entities not synced when saving over it."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


def format_time(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, as fixtures store modification times."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return format_time(value)
    raise TypeError(f"a fixture row holds {type(value).__name__}, which JSON cannot store")


def _write_atomically(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private; keep the mode of the file it replaces.
        os.chmod(temporary, stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class _Reader:
    """Parses and checks one fixture file, collecting every problem it finds."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.problems: list[Problem] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(Problem(str(self.path), where, message))

    def parse(self) -> dict[str, object] | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.problem("", f"cannot read the fixture: {exc}")
            return None
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            self.problem("$", f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")
            return None
        if not isinstance(document, dict):
            self.problem("$", f"must be an object with 'crm' and 'afas', not {_kind(document)}")
            return None
        for key in document:
            if key not in _TOP_LEVEL:
                self.problem(_path("$", key), "unknown key; expected 'crm', 'afas' or 'comment'")
        if not isinstance(document.get("comment", ""), str):
            self.problem("$.comment", "the comment must be a string")
        return document

    def tables(
        self, document: Mapping[str, object], mappings: Mapping[str, EntityMapping]
    ) -> list[tuple[Side, str, list[NativeRow]]]:
        """The valid (side, entity, rows) found; problems with the rest are recorded."""
        found: list[tuple[Side, str, list[NativeRow]]] = []
        for side in Side:
            where = _path("$", side.value)
            entities = document.get(side.value, {})
            if not isinstance(entities, dict):
                self.problem(where, f"must be an object of entity -> rows, not {_kind(entities)}")
                continue
            for entity, rows in entities.items():
                entity_where = _path(where, entity)
                mapping = mappings.get(entity)
                if mapping is None and entity in KNOWN_ENTITIES:
                    continue  # an entity not synced: left as it is (and saved so)
                if mapping is None:
                    known = ", ".join(sorted(mappings)) or "none"
                    self.problem(entity_where, f"unknown entity; the mappings have: {known}")
                elif not isinstance(rows, list):
                    self.problem(entity_where, f"must be a list of rows, not {_kind(rows)}")
                else:
                    found.append((side, entity, self.rows(entity_where, side, mapping, rows)))
        return found

    def rows(
        self, where: str, side: Side, mapping: EntityMapping, rows: list[object]
    ) -> list[NativeRow]:
        spec = mapping.side(side)
        flags = spec.inactive or (DEFAULT_INACTIVE_FIELD[side],)
        seen: set[str] = set()
        good: list[NativeRow] = []
        for index, row in enumerate(rows):
            row_where = f"{where}[{index}]"
            if not isinstance(row, dict):
                self.problem(row_where, f"a row must be an object, not {_kind(row)}")
                continue
            count = len(self.problems)
            for key, value in row.items():
                if value is not None and not isinstance(value, str | int | float | bool):
                    self.problem(_path(row_where, key), f"must be a scalar, not {_kind(value)}")
            record_id = row.get(spec.id)
            if not isinstance(record_id, str) or not record_id:
                self.problem(_path(row_where, spec.id), "the id must be a non-empty string")
            elif record_id in seen:
                self.problem(_path(row_where, spec.id), f"duplicate id {record_id!r}")
            else:
                seen.add(record_id)
            modified = self.time(_path(row_where, spec.modified), row.get(spec.modified))
            for flag in flags:
                if flag in row and not isinstance(row[flag], bool):
                    self.problem(_path(row_where, flag), "the inactive flag must be true or false")
            if len(self.problems) == count and modified is not None:
                good.append({**row, spec.modified: modified})
        return good

    def time(self, where: str, value: object) -> datetime | None:
        if not isinstance(value, str):
            self.problem(where, "the modification time must be an ISO 8601 string")
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            self.problem(where, f"{value!r} is not an ISO 8601 date and time")
            return None
        if moment.tzinfo is None:
            self.problem(where, f"{value!r} needs a UTC offset, e.g. 'Z' or '+01:00'")
            return None
        return moment


def _path(parent: str, key: str) -> str:
    return f"{parent}.{key}" if _SIMPLE_KEY.match(key) else f"{parent}[{json.dumps(key)}]"


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true/false"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if isinstance(value, int | float) else "a value")
