"""Validators of the values a mapping file holds: names, update paths, codecs, roles.

Each takes a value as written and returns what the mapping keeps, or raises a problem in
words of its own (:func:`syncd.problems.pydantic_errors.said`) naming what is wrong and
what to do.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from pydantic import ValidationInfo

from syncd.mapping.entity import COMPANY_ENTITIES
from syncd.policy import FirstLink
from syncd.problems.pydantic_errors import Location, said, said_at, said_where
from syncd.problems.report import choices, describe
from syncd.transforms.by_name import CODECS, NORMALISERS
from syncd.transforms.codecs import Codec, ValueMap

__all__ = [
    "NATIVE_NAME",
    "codec",
    "field_name",
    "first_link",
    "native_name",
    "native_names",
    "normalisers",
    "one_or_more_names",
    "positive",
    "role_options",
    "update_path",
    "update_paths",
]

NATIVE_NAME = re.compile(r"\S+")
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]*")
_PATH_SEGMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def native_name(value: str) -> str:
    """A field, property or connector name of a side."""
    if not NATIVE_NAME.fullmatch(value):
        raise said(f"{value!r} is not valid: names contain no spaces and are not empty")
    return value


def field_name(value: str) -> str:
    """A canonical field name."""
    if not _FIELD_NAME.fullmatch(value):
        rule = "use lower-case letters, digits and _, starting with a letter"
        raise said(f"{value!r} is not valid: {rule}")
    return value


def update_path(value: str) -> str:
    """A path in an UpdateConnector payload: field ids joined by dots."""
    native_name(value)
    problem = _path_problem(value)
    if problem is not None:
        raise said(problem)
    return value


def _path_problem(value: str) -> str | None:
    if all(_PATH_SEGMENT.fullmatch(segment) for segment in value.split(".")):
        return None
    return (
        f"{value!r} is not an UpdateConnector path: use field ids joined by dots, "
        "like 'VaId' or 'KnOrganisation.KnBasicAddressAdr.ZpCd'"
    )


def native_names(value: object) -> str | tuple[str, ...]:
    """One AFAS field, or (a field kept in several) the array of them."""
    if isinstance(value, str):
        return native_name(value)
    if not isinstance(value, list):
        raise said(f"expected a string, got {describe(value)}")
    if not value or not all(isinstance(n, str) and NATIVE_NAME.fullmatch(n) for n in value):
        raise said(f"expected an array of field ids without spaces, got {describe(value)}")
    return tuple(value)


def update_paths(value: object) -> str | tuple[str, ...]:
    """One UpdateConnector path, or the array of them of a field kept in several."""
    names = native_names(value)
    paths = (names,) if isinstance(names, str) else names
    problems = [p for p in map(_path_problem, paths) if p is not None]
    if problems:
        raise said_at((), *problems)
    return names


def one_or_more_names(example: str) -> Any:
    """A validator of [afas] inactive / inactive_from: one field id or an array of them."""

    def names(value: object) -> tuple[str, ...]:
        if isinstance(value, str):
            return (native_name(value),)
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(n, str) and NATIVE_NAME.fullmatch(n) for n in value)
        ):
            raise said(
                f"expected a field id or a non-empty array of field ids, got "
                f"{describe(value)}; write it like {example}"
            )
        if len(set(value)) != len(value):
            raise said("names a field more than once; list each field once")
        return tuple(value)

    return names


def normalisers(names: object) -> tuple[str, ...]:
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise said(f"expected an array of normaliser names, got {describe(names)}")
    unknown = [n for n in names if n not in NORMALISERS]
    if unknown:
        raise said_at(
            (), *(f"unknown normaliser {n!r}; use any of: {choices(NORMALISERS)}" for n in unknown)
        )
    return tuple(names)


def positive(number: int) -> int:
    if number <= 0:
        raise said(f"expected a positive integer, got {describe(number)}")
    return number


def codec(value: object) -> Codec:
    """A built-in codec by name, or an inline value map (canonical = native)."""
    if isinstance(value, str):
        if value not in CODECS:
            raise said(
                f"unknown codec {value!r}; use one of: {choices(CODECS)}, "
                "or an inline table of canonical value = native value"
            )
        return CODECS[value]
    if not isinstance(value, dict):
        raise said(f"expected a codec name or an inline table, got {describe(value)}")
    problems = _value_map_problems(value)
    if problems:
        raise said_where(problems)
    try:
        return ValueMap.build(value)
    except ValueError as exc:
        raise said(f"not one to one: {exc}; give every native value once") from None


def _value_map_problems(table: Mapping[str, object]) -> list[tuple[Location, str]]:
    found: list[tuple[Location, str]] = []
    if not table:
        found.append(((), "empty value map; list at least one canonical value = native value"))
    for canonical, native in table.items():
        if canonical == "":
            found.append(((), 'the canonical value "" is blank; blank maps to blank by itself'))
        if not isinstance(native, bool | int | str) or native == "":
            message = (
                f"expected a non-empty string, an integer or a boolean, got {describe(native)}"
            )
            found.append(((canonical,), message))
    return found


def first_link(value: object) -> FirstLink:
    if isinstance(value, str) and value in set(FirstLink):
        return FirstLink(value)
    shown = repr(value) if isinstance(value, str) else describe(value)
    close = (
        difflib.get_close_matches(value, [str(f) for f in FirstLink], n=1)
        if isinstance(value, str)
        else []
    )
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise said(
        f"{shown} is not a first-link rule (the side whose value a differing field takes "
        f"when a pair is first linked); {hint}use one of: {choices(FirstLink)}, or leave "
        "it out to settle a first link as the field's conflict rule settles conflicts"
    )


def role_options(value: object, info: ValidationInfo) -> Mapping[str, frozenset[str]]:
    """[crm] role_options: each option of a single select and the roles it means."""
    if info.data.get("role_value") is not None:
        raise said(
            "role_value and role_options exclude each other: role_value for a "
            "multiple-checkbox property, role_options for a single select; keep one"
        )
    shape = 'an inline table of option = [roles], like { both = ["customer", "supplier"] }'
    if not isinstance(value, dict) or not value:
        raise said(f"expected {shape}, got {describe(value)}")
    meanings: dict[str, frozenset[str]] = {}
    found: list[tuple[Location, str]] = []
    for option, roles in value.items():
        if (
            not isinstance(roles, list)
            or not roles
            or not all(r in COMPANY_ENTITIES for r in roles)
            or len(set(roles)) != len(roles)
        ):
            message = (
                f"expected an array of roles ({choices(COMPANY_ENTITIES)}), each once, "
                f"got {describe(roles)}"
            )
            found.append(((option,), message))
            continue
        meaning = frozenset(roles)
        said_by = next((o for o, m in meanings.items() if m == meaning), None)
        if said_by is not None:
            message = (
                f"means {' and '.join(sorted(meaning))}, as {said_by!r} does; the sets of "
                "roles overlap and syncd would not know which option to write: give each "
                "set of roles one option"
            )
            found.append(((option,), message))
            continue
        meanings[option] = meaning
    if found:
        raise said_where(found)
    entity = (info.context or {}).get("entity")
    if entity in COMPANY_ENTITIES and not any(entity in roles for roles in meanings.values()):
        raise said(
            f"no option means {entity!r}; give the option(s) that mean it, like "
            f'{{ {entity} = ["{entity}"] }}'
        )
    return MappingProxyType(meanings)
