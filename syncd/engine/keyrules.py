"""How match keys weigh against each other when pairing two records. Pure.

The ``[match] keys`` are in order of trust. A key of one plain field (``["kvk"]``,
``["vat"]``, ``["iban"]``) is an *identifier*: two records whose identifier values
differ are two companies, however alike their names, so a match on any later key (a
name, an e-mail domain) between them does not count. A match on a key that several
records share (branches of one company share its KvK number) is settled by the later
keys: the one candidate that also shares a later key's value (its name and postcode, or
its establishment number) is the partner.
"""

from __future__ import annotations

from collections.abc import Sequence

from syncd.matchkeys import key_value, key_values, parse_element
from syncd.records import Record

Key = Sequence[str]


def is_identifier(key: Key) -> bool:
    """A key of one field compared as it is: equal values name one company."""
    return len(key) == 1 and parse_element(key[0])[1] is None


def are_told_apart(record: Record, other: Record, keys: Sequence[Key]) -> bool:
    """Whether an identifier among ``keys`` has a value on both records, and they differ."""
    for key in keys:
        if is_identifier(key):
            mine, theirs = key_value(record.fields, key), key_value(other.fields, key)
            if mine is not None and theirs is not None and mine != theirs:
                return True
    return False


def single_out(record: Record, found: Sequence[Record], later: Sequence[Key]) -> Record | None:
    """The one record of ``found`` that also shares the first later key that tells one
    of them from the others (a branch by its name and postcode); None if none does."""
    for key in later:
        values = set(key_values(record.fields, key))
        if not values:
            continue
        same = [r for r in found if values.intersection(key_values(r.fields, key))]
        if len(same) == 1:
            return same[0]
    return None
