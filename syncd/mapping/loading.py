"""Loading mapping files: every problem of every file at once, or the mappings.

A file is validated by its pydantic model (:class:`~syncd.mapping.tables.MappingFile`),
then checked across its tables on the parts that validated; several files are checked
against each other (entities sharing a CRM object keep their correlation apart).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from syncd.errors import ConfigError, Problem
from syncd.mapping.cross_checks import (
    many_valued_key_problems,
    match_key_problems,
    reference_key_problems,
    reserved_name_problems,
    unique_name_problems,
)
from syncd.mapping.entity import EntityMapping
from syncd.mapping.field_map import FieldMap
from syncd.mapping.tables import AfasTable, CrmTable, FieldTable, MappingFile
from syncd.problems.pydantic_errors import Location, explained, where
from syncd.problems.report import ProblemReport
from syncd.problems.toml_file import read_toml
from syncd.records import Side

__all__ = ["load_mapping", "load_mappings", "mapping_of"]


def load_mapping(path: Path) -> EntityMapping:
    """The mapping in ``path``; ConfigError listing every problem if it is not valid."""
    mapping, problems = _mapping_problems(path)
    if mapping is None:
        raise ConfigError(problems)
    return mapping


def _mapping_problems(path: Path) -> tuple[EntityMapping | None, list[Problem]]:
    """The mapping in ``path`` and every problem found (the mapping is None if any)."""
    report = ProblemReport(str(path))
    doc = read_toml(path, report)
    if doc is None:
        return None, report.problems
    file: MappingFile | None = None
    found: list[tuple[Location, str]] = []
    try:
        file = MappingFile.model_validate(doc, context={"entity": doc.get("entity")})
    except ValidationError as exc:
        found = explained(exc, MappingFile)
    valid = _ValidParts(doc, {loc for loc, _ in found})
    fields = file.field_maps() if file is not None else valid.fields()
    # match keys name the fields: their problems follow those of the fields
    for loc, message in found:
        if loc[:1] != ("match",):
            report.add(where(loc), message)
    for key, message in (
        *unique_name_problems(fields),
        *reserved_name_problems(fields, valid.named(), valid.inactive()),
    ):
        report.add(key, message)
    for loc, message in found:
        if loc[:1] == ("match",):
            report.add(where(loc), message)
    for key, message in match_key_problems(valid.match_keys(), valid.field_names()):
        report.add(key, message)
    for key, message in match_key_problems(valid.record_name(), valid.field_names()):
        report.add(key, message)
    for key, message in (
        *reference_key_problems(list(valid.match_keys()), fields),
        *many_valued_key_problems(list(valid.match_keys()), fields),
    ):
        report.add(key, message)
    if report.problems or file is None:
        return None, report.problems
    mapping = EntityMapping(
        entity=file.entity,
        source=path,
        fields=tuple(f for _, f in fields),
        match_keys=file.match.keys,
        review_keys=file.match.review,
        record_name=file.naming_fields(),
        crm=file.crm.spec(file.entity),
        afas=file.afas.spec(),
    )
    return mapping, []


class _ValidParts:
    """The parts of a mapping file that validated, for the checks across its tables."""

    def __init__(self, doc: Mapping[str, Any], broken: set[Location]) -> None:
        self.doc = doc
        self.broken = broken

    def _clean(self, loc: Location) -> bool:
        return not any(b[: len(loc)] == loc for b in self.broken)

    def _table(self, key: str) -> Mapping[str, Any]:
        table = self.doc.get(key)
        return table if isinstance(table, dict) else {}

    def fields(self) -> list[tuple[int, FieldMap]]:
        entries = self.doc.get("fields")
        valid: list[tuple[int, FieldMap]] = []
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            if self._clean(("fields", index)):
                context = {"entity": self.doc.get("entity")}
                valid.append((index, FieldTable.model_validate(entry, context=context).field_map()))
        return valid

    def field_names(self) -> set[str]:
        """Every name a [[fields]] entry gives, valid or not."""
        entries = self.doc.get("fields")
        named = entries if isinstance(entries, list) else []
        return {e["name"] for e in named if isinstance(e, dict) and isinstance(e.get("name"), str)}

    def named(self) -> dict[Side, dict[str, str]]:
        """Per side, the names its table gives (or its defaults), as far as they are valid."""
        models: dict[Side, type[CrmTable] | type[AfasTable]] = {
            Side.CRM: CrmTable,
            Side.AFAS: AfasTable,
        }
        named: dict[Side, dict[str, str]] = {}
        for side, model in models.items():
            if not isinstance(self.doc.get(side.value), dict):
                continue
            table = self._table(side.value)
            named[side] = {}
            for key, info in model.model_fields.items():
                given = key in table
                value = table[key] if given else info.default
                if isinstance(value, str) and (not given or self._clean((side.value, key))):
                    named[side][key] = value
        return named

    def inactive(self) -> dict[Side, tuple[str, ...]]:
        """The AFAS fields that mark a record inactive, as far as they are valid."""
        table = self._table(Side.AFAS.value)
        names: list[str] = []
        for key, default in (("inactive", ["Blocked"]), ("inactive_from", [])):
            value = table.get(key, default)
            if self._clean((Side.AFAS.value, key)):
                names += [value] if isinstance(value, str) else list(value)
        return {Side.AFAS: tuple(names)}

    def record_name(self) -> Iterator[tuple[str, Sequence[str]]]:
        """The fields that name a record, if their shape is valid, with their location."""
        names = self.doc.get("record_name")
        if self._clean(("record_name",)) and names is not None:
            yield "record_name", [names] if isinstance(names, str) else names

    def match_keys(self) -> Iterator[tuple[str, Sequence[str]]]:
        """Each match key whose shape is valid, with its location."""
        table = self._table("match")
        for which in ("keys", "review"):
            keys = table.get(which)
            for index, key in enumerate(keys if isinstance(keys, list) else []):
                if self._clean(("match", which, index)) and self._clean(("match", which)):
                    yield f"match.{which}[{index}]", key


def mapping_of(mappings: Mapping[str, EntityMapping], entity: str) -> EntityMapping:
    """The mapping of ``entity``; a gateway asked for an entity it was not given is a bug."""
    try:
        return mappings[entity]
    except KeyError:
        known = ", ".join(mappings) or "none"
        raise ValueError(f"unknown entity {entity!r}; known: {known}") from None


def _mappings_problems(
    directory: Path, entities: Iterable[str]
) -> tuple[dict[str, EntityMapping], list[Problem]]:
    """``directory/<entity>.toml`` for each entity, and every problem of every file."""
    mappings: dict[str, EntityMapping] = {}
    problems: list[Problem] = []
    for entity in entities:
        path = directory / f"{entity}.toml"
        if not path.is_file():
            problems.append(
                Problem(
                    str(path),
                    "",
                    f"no mapping file for entity {entity!r}; create it (the shipped "
                    "mappings/ directory has one per entity) or stop syncing the entity",
                )
            )
            continue
        mapping, found = _mapping_problems(path)
        problems.extend(found)
        if mapping is None:
            continue
        if mapping.entity != entity:
            problems.append(
                Problem(
                    str(path),
                    "entity",
                    f"the file {path.name} is for entity {entity!r} but says "
                    f"{mapping.entity!r}; make them agree",
                )
            )
            continue
        mappings[entity] = mapping
    problems.extend(_cross_problems(mappings))
    return mappings, problems


def _cross_problems(mappings: Mapping[str, EntityMapping]) -> list[Problem]:
    """Entities sharing one CRM object must keep their correlation properties apart."""
    problems: list[Problem] = []
    seen: dict[tuple[str, str], str] = {}
    for entity, mapping in mappings.items():
        key = (mapping.crm.options["object"], mapping.crm.correlation)
        if key in seen:
            problems.append(
                Problem(
                    str(mapping.source),
                    "crm.correlation",
                    f"{mapping.crm.correlation!r} is also the correlation property of "
                    f"{seen[key]!r}; give each entity its own unique property",
                )
            )
        else:
            seen[key] = entity
    return problems


def load_mappings(directory: Path, entities: Iterable[str]) -> dict[str, EntityMapping]:
    """The mapping of each entity; one ConfigError with the problems of all files."""
    mappings, problems = _mappings_problems(directory, entities)
    if problems:
        raise ConfigError(problems)
    return mappings
