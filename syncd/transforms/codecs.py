"""Codecs: canonical text against one side's native value, and back.

A codec round-trips (``to_canonical(to_native(c)) == c`` for every canonical ``c`` it
accepts); a value outside its domain raises :class:`RecordError` listing the allowed ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Protocol

from syncd.errors import RecordError
from syncd.transforms.normalisers import decimal, format_decimal


class Codec(Protocol):
    """Translates between canonical text and one side's native value (never blank)."""

    @property
    def name(self) -> str: ...

    def to_canonical(self, native: object) -> str:
        """The canonical text of a non-blank native value; RecordError if unknown."""
        ...

    def to_native(self, canonical: str) -> object:
        """The native value of a non-blank canonical text; RecordError if it has none."""
        ...

    def domain(self) -> tuple[str, ...] | None:
        """Every canonical value the codec accepts, when that set is finite."""
        ...


def allowed_values(values: Iterable[object], limit: int = 60) -> str:
    """The values a refusal names as allowed, at most ``limit`` of them."""
    shown = [repr(v) for v in values]
    more = len(shown) - limit
    text = ", ".join(shown[:limit])
    return f"{text}, ... ({more} more)" if more > 0 else text


def scalar_text(native: object) -> str:
    """The text of a native scalar as either API sends it."""
    if isinstance(native, str):
        _check_unicode(native)
        return native
    if isinstance(native, bool):
        return "true" if native else "false"
    if isinstance(native, int):
        return str(native)
    if isinstance(native, float):
        return format_decimal(Decimal(repr(native)))
    raise RecordError(f"{native!r} is a {type(native).__name__}, not a single value")


def _check_unicode(text: str) -> None:
    """A JSON string may carry lone surrogates (``\\udce9``): no side can store those."""
    if text.isascii():  # most values, and the quick test
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise RecordError(
            f"{text[:60]!r} is not valid Unicode text (a lone surrogate at position "
            f"{exc.start}, likely bytes read in the wrong encoding); retype the value"
        ) from None


@dataclass(frozen=True)
class TextCodec:
    """The default: native text is canonical text (numbers and booleans as text)."""

    name: str = "text"

    def to_canonical(self, native: object) -> str:
        if type(native) is str and native.isascii():  # most values: nothing to check
            return native
        return scalar_text(native)

    def to_native(self, canonical: str) -> object:
        _check_unicode(canonical)  # what could not be read is not written either
        return canonical

    def domain(self) -> tuple[str, ...] | None:
        return None


@dataclass(frozen=True)
class BoolCodec:
    """Canonical "true"/"false" <-> native True/False; reads "1"/"0" too."""

    name: str = "bool"

    def to_canonical(self, native: object) -> str:
        if isinstance(native, bool):
            return "true" if native else "false"
        text = scalar_text(native).strip().lower()
        if text in ("true", "1"):
            return "true"
        if text in ("false", "0"):
            return "false"
        raise RecordError(f"{native!r} is not a yes/no value; allowed: true, false, 1, 0")

    def to_native(self, canonical: str) -> object:
        if canonical == "true":
            return True
        if canonical == "false":
            return False
        raise RecordError(f"{canonical!r} is not a yes/no value; allowed: 'true', 'false'")

    def domain(self) -> tuple[str, ...] | None:
        return ("true", "false")


_INTEGER = re.compile(r"0|-?[1-9][0-9]*")  # "-0" would read back as "0"


@dataclass(frozen=True)
class IntegerCodec:
    """Canonical whole-number text ("105") <-> native int (AFAS ``HmNr``)."""

    name: str = "integer"

    def to_canonical(self, native: object) -> str:
        if isinstance(native, bool):
            raise RecordError(f"{native!r} is a yes/no value, not a whole number")
        text = scalar_text(native).strip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite() or number != number.to_integral_value():
            raise RecordError(f"{native!r} is not a whole number")
        return str(int(number))

    def to_native(self, canonical: str) -> object:
        if not _INTEGER.fullmatch(canonical):
            raise RecordError(
                f"{canonical!r} is not a whole number written plainly (like 105); "
                "this side stores whole numbers only"
            )
        return int(canonical)

    def domain(self) -> tuple[str, ...] | None:
        return None


@dataclass(frozen=True)
class DecimalCodec:
    """Canonical decimal text ("5000", "12.5") <-> native JSON number (AFAS ``Krli``)."""

    name: str = "decimal"

    def to_canonical(self, native: object) -> str:
        if isinstance(native, bool):
            raise RecordError(f"{native!r} is a yes/no value, not a number")
        if isinstance(native, int):
            return str(native)
        value = decimal(scalar_text(native))
        if value is None:
            raise RecordError(f"{native!r} is not a number")
        return value

    def to_native(self, canonical: str) -> object:
        if _INTEGER.fullmatch(canonical):
            return int(canonical)
        try:
            number = float(canonical)
        except ValueError:
            raise RecordError(f"{canonical!r} is not a number") from None
        if self.to_canonical(number) != canonical:
            raise RecordError(
                f"{canonical!r} has more digits than this side can store exactly; "
                "round it, or write it without trailing zeros"
            )
        return number

    def domain(self) -> tuple[str, ...] | None:
        return None


NativeScalar = str | int | bool


@dataclass(frozen=True)
class ValueMap:
    """A mapping file's inline table: canonical value -> native value, one to one.

    Native values are matched by their text ("14" matches 14), so the table must stay
    one to one by text as well; :meth:`build` checks that.
    """

    pairs: tuple[tuple[str, NativeScalar], ...]
    name: str = "value map"

    @staticmethod
    def build(table: Mapping[str, NativeScalar]) -> ValueMap:
        """A value map from ``table``; ValueError naming every clash if not one to one."""
        seen: dict[str, str] = {}
        clashes: list[str] = []
        for canonical, native in table.items():
            key = scalar_text(native)
            if key in seen:
                clashes.append(f"{seen[key]!r} and {canonical!r} both map to {native!r}")
            else:
                seen[key] = canonical
        if clashes:
            raise ValueError("; ".join(clashes))
        return ValueMap(tuple(table.items()))

    def to_canonical(self, native: object) -> str:
        key = scalar_text(native)
        for canonical, mapped in self.pairs:
            if scalar_text(mapped) == key:
                return canonical
        raise RecordError(
            f"{native!r} is not one of the mapped values; allowed: "
            f"{allowed_values(n for _, n in self.pairs)}"
        )

    def to_native(self, canonical: str) -> object:
        for key, native in self.pairs:
            if key == canonical:
                return native
        raise RecordError(
            f"{canonical!r} has no value on this side; allowed: "
            f"{allowed_values(k for k, _ in self.pairs)}"
        )

    def domain(self) -> tuple[str, ...] | None:
        return tuple(k for k, _ in self.pairs)
