"""Pydantic's errors said as syncd's :class:`Problem`: at the key the file names, in the
project's words (what is wrong and what to do).

A check with words of its own raises :func:`said`; a key whose generic words need more
(what it holds, what to add when it is missing) carries a :class:`Hint`. The tables these
errors come from are :class:`~syncd.problems.table.Table` models.
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import InitErrorDetails, PydanticCustomError

from syncd.errors import Problem
from syncd.problems.report import describe, unknown_key_message

__all__ = [
    "Hint",
    "Location",
    "explained",
    "problems_of",
    "restated",
    "said",
    "said_at",
    "said_where",
    "where",
]

Location = tuple[int | str, ...]

_SAID = "said"  # the error type of a check that words its problem itself

_WANTED = {  # pydantic's type errors: what the key should have held
    "bool_type": "true or false",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "string_type": "a string",
    "list_type": "an array",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
}


@dataclass(frozen=True)
class Hint:
    """Words for one key beyond the generic ones (kept in its ``Annotated`` metadata)."""

    wanted: str = ""  # what it holds: "expected {wanted}, got ..."
    missing: str = ""  # what to do when it is left out: "missing; {missing}"


def said(message: str) -> PydanticCustomError:
    """A problem in words of its own (raise it from a validator)."""
    return PydanticCustomError(_SAID, message)


def said_at(loc: Location, *messages: str) -> ValidationError:
    """Problems in words of their own at ``loc`` below the value being checked (raise it
    from a validator: pydantic puts the value's own location in front)."""
    return said_where([(loc, message) for message in messages])


def said_where(found: Sequence[tuple[Location, str]]) -> ValidationError:
    """Problems in words of their own, each at its location below the value checked."""
    details = [InitErrorDetails(type=said(m), loc=loc, input=None) for loc, m in found]
    return ValidationError.from_exception_data("problems", details)


def where(location: Location) -> str:
    """A location as the file would name it: ``fields[2].crm``, ``connections.demo``."""
    key = ""
    for part in location:
        if part == "[key]":
            continue  # pydantic's mark of a problem with a table's key, not its value
        key += f"[{part}]" if isinstance(part, int) else f".{part}" if key else str(part)
    return key


def problems_of(error: ValidationError, model: type[BaseModel], source: str) -> list[Problem]:
    """Every problem pydantic found validating ``model``, at its key in ``source``."""
    return [Problem(source, where(loc), message) for loc, message in explained(error, model)]


def restated(error: ValidationError, model: type[BaseModel]) -> ValidationError:
    """``error`` with the messages said for people, for a table validated inside another
    one's validator (whose model pydantic cannot see into)."""
    return said_where(explained(error, model))


def explained(error: ValidationError, model: type[BaseModel]) -> list[tuple[Location, str]]:
    """Each error's location and message, the unknown keys of a table before its others."""
    return [(tuple(e["loc"]), _message(e, model)) for e in _unknown_keys_first(error.errors())]


def _unknown_keys_first(errors: Sequence[Any]) -> list[Any]:
    # Pydantic reports a table's unknown keys after its others; a reader meets them first.
    ordered: list[Any] = []
    for error in errors:
        if error["type"] == "extra_forbidden":
            ordered.insert(_start_of_table(ordered, tuple(error["loc"][:-1])), error)
        else:
            ordered.append(error)
    return ordered


def _start_of_table(ordered: Sequence[Any], table: Location) -> int:
    """Where the errors of ``table`` start, after its unknown keys moved there already."""
    for at, error in enumerate(ordered):
        inside = tuple(error["loc"][: len(table)]) == table
        moved = error["type"] == "extra_forbidden" and tuple(error["loc"][:-1]) == table
        if inside and not moved:
            return at
    return len(ordered)


def _message(error: Any, model: type[BaseModel]) -> str:
    kind, loc, value = error["type"], tuple(error["loc"]), error["input"]
    if kind == _SAID:
        return str(error["msg"])
    if kind == "extra_forbidden":
        owner = _annotation_at(model, loc[:-1])
        allowed = _keys(owner) if isinstance(owner, type) and issubclass(owner, BaseModel) else ()
        return unknown_key_message(str(loc[-1]), allowed)
    hint = _hint_at(model, loc)
    if kind == "missing":
        return f"missing; {hint.missing or 'this key is required'}"
    if kind in _WANTED:
        message = f"expected {hint.wanted or _WANTED[kind]}, got {describe(value)}"
        if _WANTED[kind] == "a table" and not hint.wanted:
            message += f"; write it as {_table_header(loc)}"
        return message
    return str(error["msg"])


def _table_header(loc: Location) -> str:
    """How the file opens the table at ``loc``: [sync], [[fields]] for an array's item."""
    return f"[[{where(loc[:-1])}]]" if isinstance(loc[-1], int) else f"[{where(loc)}]"


def _keys(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _hint_at(model: type[BaseModel], loc: Location) -> Hint:
    """The hint of the key at ``loc`` (not of an item in its array or table)."""
    info = _field_at(model, loc)
    if info is None:
        return Hint()
    # an optional key's hint sits inside its union: Annotated[str, Hint(...)] | None
    members = get_args(info.annotation) if _is_union(info.annotation) else ()
    inner = [m for a in members if get_origin(a) is Annotated for m in a.__metadata__]
    hints = [m for m in (*info.metadata, *inner) if isinstance(m, Hint)]
    return hints[0] if hints else Hint()


def _field_at(model: type[BaseModel], loc: Location) -> FieldInfo | None:
    owner = _annotation_at(model, loc[:-1])
    if not loc or not isinstance(owner, type) or not issubclass(owner, BaseModel):
        return None
    return next(
        (info for name, info in owner.model_fields.items() if (info.alias or name) == loc[-1]),
        None,
    )


def _annotation_at(model: type[BaseModel], loc: Location) -> object:
    """The type that validates the value at ``loc``: a model's field, or the items of an
    array or table."""
    annotation: object = model
    for part in loc:
        annotation = _plain(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            info = _field_at(annotation, (part,))
            if info is None:
                return None
            annotation = info.annotation
        else:
            arguments = get_args(annotation)
            annotation = arguments[-1] if arguments else None
    return _plain(annotation)


def _plain(annotation: object) -> object:
    """``annotation`` without ``Annotated`` and without ``| None``."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if _is_union(annotation):
        members = [a for a in get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return _plain(members[0])
    return annotation


def _is_union(annotation: object) -> bool:
    return get_origin(annotation) in (Union, types.UnionType)
