"""What a person calls a record: a company by its name, a contact person by theirs.

Status events carry it beside the ids (from the link's base, which the cycle holds
anyway), so that a reader of the log or the console knows the record without looking
its id up.
"""

from __future__ import annotations

from collections.abc import Mapping

from syncd.records import Value

# The canonical fields that name a record, in the shipped mappings: a company's name, or
# a person's first and last name. A mapping that names them otherwise gets no name.
NAME_FIELDS = (("name",), ("first_name", "last_name"))


def record_name(fields: Mapping[str, Value]) -> str | None:
    """The record's name from its canonical ``fields``, or None when they hold none."""
    for names in NAME_FIELDS:
        parts = [str(fields[n]).strip() for n in names if fields.get(n) not in (None, "")]
        if parts:
            return " ".join(parts)
    return None
