"""Which companies hold an entity's role, and whether the portal's role property can say it.

A company is a customer or a supplier (or both) when its role property (the mapping's
``role_property``) says so: a multiple checkbox with the entity's ``role_value`` ticked,
or a single select holding one of the options ``role_options`` gives the role
(:mod:`syncd.roles`). Without a role property every company belongs to the entity.
"""

from __future__ import annotations

from syncd.gateways.hubspot.answers import JsonObject, properties_of
from syncd.gateways.hubspot.companies import CompanyMapping
from syncd.gateways.hubspot.properties import PropertySchema
from syncd.roles import CompanyRole

__all__ = ["CompanyRoles", "role_problems"]


class CompanyRoles:
    """The roles of the mappings' entities on their CRM objects."""

    def __init__(self, companies: CompanyMapping) -> None:
        self._companies = companies

    def role(self, entity: str) -> CompanyRole | None:
        return self._companies.spec(entity).role

    def is_held_by(self, entity: str, obj: JsonObject) -> bool:
        """Whether the company ``obj`` holds the entity's role (always, without a role)."""
        role = self.role(entity)
        return role is None or role.is_held_by(properties_of(obj).get(role.property_name))

    def of_others(self, entity: str) -> list[CompanyRole]:
        """The roles of the other entities on the same CRM object, by other properties."""
        own = self.role(entity)
        object_type = self._companies.object_type(entity)
        return [
            role
            for other, mapping in self._companies.mappings.items()
            if other != entity
            and (role := mapping.crm.role) is not None
            and self._companies.object_type(other) == object_type
            and (own is None or role.property_name != own.property_name)
        ]


def role_problems(role: CompanyRole | None, schema: PropertySchema) -> list[str]:
    """Why the portal's role property cannot hold the role as the mapping says it."""
    prop = schema.definitions.get(role.property_name) if role else None
    if role is None or prop is None:
        return []  # no role, or a missing property (reported with the others)
    named = role.meanings or [role.ticked]
    problems = [
        f"{role.property_name!r} has no option {v!r}" for v in named if v not in prop.options
    ]
    if role.meanings is None and not prop.multi:
        problems.append(
            f"{role.property_name!r} is not a multiple-checkbox property; describe its options "
            "with [crm] role_options instead of role_value"
        )
    if role.meanings is not None and prop.multi:
        problems.append(
            f"{role.property_name!r} is a multiple-checkbox property; name the option with "
            "[crm] role_value instead of role_options"
        )
    return problems
