"""Which CRM companies are customers or suppliers: the role a company property says.

A portal says a company's roles in one of two ways, and a mapping file names which:

* a multiple-checkbox property (``role_value``): the role is one ticked option; the other
  roles are other options, ticked or not beside it;
* a single-select property (``role_options``): each option means a set of roles, like
  ``customer``, ``supplier`` and ``both``, or HubSpot's own ``type`` whose ``VENDOR``
  means a supplier. The role is every option whose set holds it.

To give a company a role or take it away, syncd writes the value that keeps every other
role the company has: a ``customer`` that becomes a supplier too gets ``both``; a ``both``
that stops being a customer gets ``supplier``. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from syncd.errors import RecordError

__all__ = ["CompanyRole"]


@dataclass(frozen=True)
class CompanyRole:
    """One entity's role, as one company property holds it."""

    property_name: str
    entity: str
    ticked: str | None = None  # the option of a multiple-checkbox property
    meanings: Mapping[str, frozenset[str]] | None = None  # a single select: option -> roles

    @property
    def values(self) -> tuple[str, ...]:
        """The property's values that say a company has the role (for a search's IN)."""
        if self.meanings is None:
            assert self.ticked is not None
            return (self.ticked,)
        return tuple(option for option, roles in self.meanings.items() if self.entity in roles)

    def is_held_by(self, native: object) -> bool:
        """Whether a company whose property holds ``native`` has the role."""
        if self.meanings is None:
            return self.ticked in _tokens(native)
        return self.entity in self.meanings.get(_text(native), frozenset())

    def value_with_role(self, native: object) -> str:
        """The property's value that gives the company the role and keeps its others."""
        if self.meanings is None:
            assert self.ticked is not None
            return ";".join(dict.fromkeys([*_tokens(native), self.ticked]))
        return self._option_for(self._roles(native) | {self.entity})

    def value_without_role(self, native: object) -> str | None:
        """The property's value without the role, keeping the others; None when the
        property then says no role at all (the company may go)."""
        if self.meanings is None:
            kept = [t for t in _tokens(native) if t != self.ticked]
            return ";".join(kept) or None
        roles = self._roles(native) - {self.entity}
        return self._option_for(roles) if roles else None

    def _roles(self, native: object) -> frozenset[str]:
        assert self.meanings is not None
        return self.meanings.get(_text(native), frozenset())

    def _option_for(self, roles: frozenset[str]) -> str:
        assert self.meanings is not None
        for option, meaning in self.meanings.items():
            if meaning == roles:
                return option
        wanted = " and ".join(sorted(roles))
        raise RecordError(
            f"{self.property_name!r} has no option meaning {wanted}; add one to the property "
            "and to [crm] role_options",
            field=self.property_name,
        )


def _text(native: object) -> str:
    return "" if native is None else str(native)


def _tokens(native: object) -> list[str]:
    return [t for t in _text(native).split(";") if t]
