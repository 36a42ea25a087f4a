"""One canonical field of a mapping and how each side keeps it: read, normalise, write."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from syncd.errors import RecordError
from syncd.matchkeys import OTHERS_APART
from syncd.policy import ConflictRule, Direction, FirstLink
from syncd.records import Side, Value
from syncd.transforms.by_name import NORMALISERS
from syncd.transforms.codecs import Codec, TextCodec
from syncd.transforms.normalisers import Normaliser, apply_normalisers

__all__ = ["FieldMap"]

_TEXT = TextCodec()


@dataclass(frozen=True)
class FieldMap:
    """One canonical field and where each side keeps it."""

    name: str
    crm: str
    afas: str
    afas_update: str
    direction: Direction = Direction.BOTH
    conflict: ConflictRule | None = None
    blank_overwrites: bool | None = None
    first_link: FirstLink | None = None  # None: as the field's conflict rule says
    normalize: tuple[str, ...] = ()
    crm_codec: Codec = _TEXT
    afas_codec: Codec = _TEXT
    max_length: int | None = None
    # A composite AFAS side (a Dutch address: street, number, addition): every read
    # field and update path, in the codec's order; ``afas``/``afas_update`` are the first.
    afas_parts: tuple[str, ...] = ()
    afas_update_parts: tuple[str, ...] = ()
    # A reference to a company (a contact's): the entities the company may be linked as.
    # The sides keep their own id of it (the HubSpot company, the AFAS organisation);
    # canonical is the CRM company's id, translated by the engine through the links.
    refers_to: tuple[str, ...] = ()
    # A CRM property with the field's other values, ";" apart (a HubSpot contact's
    # additional e-mails): read only for a match key ``"<name>:any"``, never written.
    crm_others: str | None = None

    def native_name(self, side: Side) -> str:
        """The field's name in ``side``'s read API (a composite's first)."""
        return self.crm if side is Side.CRM else self.afas

    def native_names(self, side: Side) -> tuple[str, ...]:
        """Every field of ``side``'s read API the value lives in."""
        if side is Side.AFAS and self.afas_parts:
            return self.afas_parts
        return (self.native_name(side),)

    def native_of(self, side: Side, row: Mapping[str, object]) -> object:
        """The field's native value in a row (a composite's parts, None if all blank)."""
        if side is Side.CRM or not self.afas_parts:
            return row.get(self.native_name(side))
        parts = tuple(row.get(name) for name in self.afas_parts)
        return None if all(p is None or p == "" for p in parts) else parts

    def natives(self, side: Side, value: Value, names: Sequence[str] = ()) -> dict[str, object]:
        """The native values to write, by read name (or by ``names``: the update paths)."""
        names = names or self.native_names(side)
        native = self.write(side, value)
        if len(names) == 1:
            return {names[0]: native}
        parts = native if isinstance(native, tuple) else (None,) * len(names)
        return dict(zip(names, parts, strict=True))

    def updates(self, value: Value) -> dict[str, object]:
        """The native values to write to AFAS, by UpdateConnector path."""
        return self.natives(Side.AFAS, value, self.afas_update_parts or (self.afas_update,))

    def others(self, native: object) -> Value:
        """The other values of a ``crm_others`` property, each in the field's normal form,
        ";" apart; one that cannot be read is left out (it only ever helps a match)."""
        if not isinstance(native, str):
            return None
        read = self.reader(Side.CRM)
        values: list[str] = []
        for part in native.split(OTHERS_APART):
            try:
                value = read(part.strip())
            except RecordError:
                continue
            if value and value not in values:
                values.append(value)
        return OTHERS_APART.join(values) or None

    def codec(self, side: Side) -> Codec:
        return self.crm_codec if side is Side.CRM else self.afas_codec

    def normal(self, value: Value) -> Value:
        """``value`` in the field's normal form (blank as None); RecordError if impossible."""
        return apply_normalisers(self._normalisers, value)

    @cached_property
    def _normalisers(self) -> tuple[Normaliser, ...]:
        # Looked up once: every field of every record read goes through them.
        return tuple(NORMALISERS[n] for n in self.normalize)

    def read(self, side: Side, native: object) -> Value:
        """The canonical value of a native value read from ``side``."""
        return self.reader(side)(native)

    def reader(self, side: Side) -> Callable[[object], Value]:
        """:meth:`read` for one side, as one function."""
        return self._readers[side]

    @cached_property
    def _readers(self) -> dict[Side, Callable[[object], Value]]:
        # Codec and normalisers looked up once per side: every field of every row read
        # goes through them.
        return {side: self._reader_for(side) for side in Side}

    def _reader_for(self, side: Side) -> Callable[[object], Value]:
        to_canonical, normalisers = self.codec(side).to_canonical, self._normalisers

        def read(native: object) -> Value:  # a composite's parts come as a tuple
            if native is None or native == "":
                return None
            try:
                return apply_normalisers(normalisers, to_canonical(native))
            except RecordError as exc:
                raise self._error(side, exc) from None

        return read

    def write(self, side: Side, value: Value) -> object:
        """The native value to write to ``side``; ``None`` means blank (clear the field)."""
        try:
            text = self.normal(value)
            if text is None:
                return None
            if self.max_length is not None and len(text) > self.max_length:
                raise RecordError(
                    f"{text!r} is {len(text)} characters long; the longest value this "
                    f"field can hold is {self.max_length}"
                )
            return self.codec(side).to_native(text)
        except RecordError as exc:
            raise self._error(side, exc) from None

    def _error(self, side: Side, exc: RecordError) -> RecordError:
        where = f"field {self.name!r} ({side} {self.native_name(side)!r})"
        return RecordError(f"{where}: {exc}", field=self.name)
