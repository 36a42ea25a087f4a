"""A company's role as a property says it: which value syncd writes to add or take one."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from syncd.errors import RecordError
from syncd.roles import CompanyRole

RELATION_ROLE = MappingProxyType(
    {
        "customer": frozenset({"customer"}),
        "supplier": frozenset({"supplier"}),
        "both": frozenset({"customer", "supplier"}),
    }
)


def select(entity: str) -> CompanyRole:
    return CompanyRole("relation_role", entity, meanings=RELATION_ROLE)


def test_a_customer_that_becomes_a_supplier_too_gets_both() -> None:
    assert select("supplier").value_with_role("customer") == "both"
    assert select("customer").value_with_role("both") == "both"  # already held: kept as it is
    assert select("customer").value_with_role(None) == "customer"


def test_a_both_that_stops_being_a_customer_keeps_the_supplier_role() -> None:
    assert select("customer").value_without_role("both") == "supplier"
    assert select("supplier").value_without_role("both") == "customer"
    assert select("customer").value_without_role("customer") is None  # no role left


def test_the_role_is_every_option_that_means_it() -> None:
    customer = select("customer")
    assert customer.values == ("customer", "both")
    assert [customer.is_held_by(v) for v in ("customer", "both", "supplier", "", None)] == [
        True,
        True,
        False,
        False,
        False,
    ]


def test_hubspots_own_type_says_a_supplier_by_vendor() -> None:
    vendor = CompanyRole(
        "type", "supplier", meanings=MappingProxyType({"VENDOR": frozenset({"supplier"})})
    )
    assert vendor.values == ("VENDOR",)
    assert not vendor.is_held_by("PROSPECT")
    assert vendor.value_with_role("PROSPECT") == "VENDOR"
    assert vendor.value_without_role("VENDOR") is None


def test_a_set_of_roles_no_option_means_is_refused_naming_the_property() -> None:
    only_customer = CompanyRole(
        "relation_role",
        "supplier",
        meanings=MappingProxyType(
            {"customer": frozenset({"customer"}), "supplier": frozenset({"supplier"})}
        ),
    )
    with pytest.raises(
        RecordError, match="'relation_role' has no option meaning customer and supplier"
    ):
        only_customer.value_with_role("customer")


def test_a_multiple_checkbox_keeps_working() -> None:
    ticked = CompanyRole("afas_roles", "supplier", ticked="supplier")
    assert ticked.values == ("supplier",)
    assert ticked.value_with_role("customer") == "customer;supplier"
    assert ticked.value_without_role("customer;supplier") == "customer"
    assert ticked.value_without_role("supplier") is None
    assert ticked.is_held_by("customer;supplier")
    assert not ticked.is_held_by("customer")
