"""Checks across the tables of a mapping file, run on the parts of it that validated.

A field may not share a name, property or path with another field, nor reuse a name
the side tables already give a role; match keys may only name the file's fields. The
checks run even when other parts of the file are broken, so that one run reports all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from syncd.mapping.field_map import FieldMap
from syncd.matchkeys import ANY, parse_element
from syncd.problems.report import choices
from syncd.records import Side

__all__ = [
    "many_valued_key_problems",
    "match_key_problems",
    "reference_key_problems",
    "reserved_name_problems",
    "unique_name_problems",
]

Found = list[tuple[str, str]]  # (key, message)

_ROLES = ("id", "modified", "correlation", "inactive", "role_property")
_UPDATE_ROLES = ("update_key", "correlation_update", "deactivate_update")


def unique_name_problems(fields: Sequence[tuple[int, FieldMap]]) -> Found:
    """Each field needs its own canonical name, CRM property, AFAS field and path."""
    found: Found = []
    for attr, what in (
        ("name", "canonical name"),
        ("crm", "CRM property"),
        ("afas", "AFAS field"),
        ("afas_update", "UpdateConnector path"),
    ):
        first: dict[str, int] = {}
        for index, field in fields:
            for value in _names_of(field, attr):
                if value in first:
                    message = (
                        f"{value!r} is also the {what} of fields[{first[value]}]; "
                        "each field needs its own"
                    )
                    found.append((f"fields[{index}].{attr}", message))
                else:
                    first[value] = index
    return found


def _names_of(field: FieldMap, attr: str) -> tuple[str, ...]:
    """The field's names of one kind (of the CRM's, its property for other values too)."""
    names: tuple[str, ...] = getattr(field, f"{attr}_parts", ()) or (getattr(field, attr),)
    if attr == "crm" and field.crm_others:
        names += (field.crm_others,)
    return names


def reserved_name_problems(
    fields: Sequence[tuple[int, FieldMap]],
    sides: Mapping[Side, Mapping[str, str]],
    inactive: Mapping[Side, Iterable[str]],
) -> Found:
    """A mapped field may not reuse a name the side table already gives a role."""
    found: Found = []
    for side, named in sides.items():
        reserved = {named[k]: k for k in reversed(_ROLES) if k in named}
        reserved.update({name: "inactive" for name in inactive.get(side, ())})
        paths = {named[k]: k for k in _UPDATE_ROLES if k in named}
        for index, field in fields:
            native = field.native_name(side)
            if native in reserved:
                message = (
                    f"{native!r} is already the [{side}] {reserved[native]}; "
                    "map the field to another one"
                )
                found.append((f"fields[{index}].{side}", message))
            if field.afas_update in paths:
                message = (
                    f"{field.afas_update!r} is already the [afas] {paths[field.afas_update]}; "
                    "map the field to another one"
                )
                found.append((f"fields[{index}].afas_update", message))
    return found


def match_key_problems(keys: Iterable[tuple[str, Sequence[str]]], names: set[str]) -> Found:
    """Each (location, key) names only fields of the mapping."""
    found: Found = []
    for where, key in keys:
        for element in key:
            name = parse_element(element)[0]
            if name not in names:
                message = (
                    f"{name!r} is not a field of this mapping; use one of: {choices(sorted(names))}"
                )
                found.append((where, message))
    return found


def many_valued_key_problems(
    keys: Iterable[tuple[str, Sequence[str]]], fields: Sequence[tuple[int, FieldMap]]
) -> Found:
    """An element ``"<field>:any"`` needs a field that keeps other values (``crm_others``)."""
    kept = {f.name for _, f in fields if f.crm_others}
    return [
        (
            where,
            f"{element!r} compares every value of {field!r}, but it keeps one: give the "
            f'field crm_others = "<property>", or write "{field}"',
        )
        for where, key in keys
        for element in key
        for field, function in [parse_element(element)]
        if function == ANY and field not in kept
    ]


def reference_key_problems(
    keys: Iterable[tuple[str, Sequence[str]]], fields: Sequence[tuple[int, FieldMap]]
) -> Found:
    """Records that follow a company (contacts) match only within one company: each key
    names the company field."""
    reference = next((f.name for _, f in fields if f.refers_to), None)
    if reference is None:
        return []
    return [
        (
            where,
            f"matches across companies; add {reference!r} to the key, as in "
            f'["email", "{reference}"]',
        )
        for where, key in keys
        if reference not in {parse_element(element)[0] for element in key}
    ]
