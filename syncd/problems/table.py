"""The tables of an operator's files as pydantic models, and checks they share.

Every table of ``config.toml``, of a mapping file and of a gateway's options is a
:class:`Table`: strict (a string is no number, 1 is no boolean), closed (an unknown key is
a problem) and frozen, so pydantic finds every problem at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    model_validator,
)

from syncd.problems.pydantic_errors import Location, explained, said, said_where
from syncd.problems.report import choices, describe

__all__ = ["Table", "one_of", "within"]

_Choice = TypeVar("_Choice", bound=Enum)


class Table(BaseModel):
    """A table of an input file: strict types, no unknown keys, read only."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @classmethod
    def together(
        cls, table: Mapping[str, Any], context: Mapping[str, Any]
    ) -> list[tuple[Location, str]]:
        """Problems of keys that only make sense together, found in the table as written:
        they are reported even when one of its keys is broken."""
        return []

    @model_validator(mode="wrap")
    @classmethod
    def _with_keys_together(
        cls, data: object, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> Any:
        together = cls.together(data, info.context or {}) if isinstance(data, dict) else []
        try:
            table = handler(data)
        except ValidationError as exc:
            if not together:
                raise
            raise said_where([*explained(exc, cls), *together]) from None
        if together:
            raise said_where(together)
        return table


def within(
    low: float, high: float | None = None, *, whole: bool = False
) -> Callable[[float], float]:
    """A validator of a number from ``low`` (to ``high``)."""
    wanted = "a whole number" if whole else "a number"
    bounds = f"from {low:g} to {high:g}" if high is not None else f"of at least {low:g}"

    def check(number: float) -> float:
        if number < low or (high is not None and number > high):
            shown = int(number) if float(number).is_integer() else number
            raise said(f"{shown!r} is out of range; use {wanted} {bounds}")
        return number

    return check


def one_of(kind: type[_Choice], what: str = "", *, after: str = "") -> Callable[[object], _Choice]:
    """A validator of a member of ``kind`` given by its value: "x is not {what}; use one
    of: ..." (``what`` left out: "is not allowed")."""

    def member(value: object) -> _Choice:
        try:
            return kind(value)
        except ValueError:
            shown = repr(value) if isinstance(value, str) else describe(value)
            verdict = f"is not {what}" if what else "is not allowed"
            allowed = choices(str(m.value) for m in kind)
            raise said(f"{shown} {verdict}; use one of: {allowed}{after}") from None

    return member
