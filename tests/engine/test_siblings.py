"""Which entities are one record in another role (pure)."""

from __future__ import annotations

import dataclasses

from syncd.engine.siblings import siblings_of
from syncd.mapping import KNOWN_ENTITIES, load_mappings
from tests.gateways.contract.gateway_contract import SHIPPED_MAPPINGS

MAPPINGS = load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)


def test_customers_and_suppliers_are_one_company_in_two_roles() -> None:
    assert siblings_of(MAPPINGS, "customer") == ("supplier",)
    assert siblings_of(MAPPINGS, "supplier") == ("customer",)


def test_an_entity_of_another_crm_object_is_no_sibling() -> None:
    supplier = MAPPINGS["supplier"]
    crm = dataclasses.replace(supplier.crm, options={**supplier.crm.options, "object": "deals"})
    mappings = {**MAPPINGS, "supplier": dataclasses.replace(supplier, crm=crm)}
    assert siblings_of(mappings, "customer") == ()
