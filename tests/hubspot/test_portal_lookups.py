"""The simulated portal's look-ups (unique values, id order, search by value) follow writes."""

from __future__ import annotations

import pytest

from syncd.sim.hubspot.portal import Invalid, NotFound, Portal
from syncd.sim.hubspot.search import SearchLimits, run_search

NUMBER = "afas_debtor_number"


def test_a_unique_value_is_free_again_once_changed_and_taken_by_the_new_holder() -> None:
    portal = Portal()
    first = portal.create({"name": "A", NUMBER: "1"})
    portal.create({"name": "B", NUMBER: "2"})
    with pytest.raises(Invalid):
        portal.create({"name": "C", NUMBER: "1"})
    portal.update(first, {NUMBER: "3"})
    assert portal.create({"name": "C", NUMBER: "1"}).properties[NUMBER] == "1"
    with pytest.raises(Invalid):
        portal.create({"name": "D", NUMBER: "3"})


def test_read_by_unique_value_finds_the_current_holder_only() -> None:
    portal = Portal()
    company = portal.create({"name": "A", NUMBER: "1"})
    assert portal.get_by(NUMBER, "1").id == company.id
    portal.update(company, {NUMBER: "2"})
    with pytest.raises(NotFound):
        portal.get_by(NUMBER, "1")
    assert portal.get_by(NUMBER, "2").id == company.id
    portal.archive(company)
    with pytest.raises(NotFound):
        portal.get_by(NUMBER, "2")
    assert portal.get_by(NUMBER, "2", archived=True).id == company.id


def test_listing_after_an_id_follows_companies_seeded_out_of_order() -> None:
    portal = Portal()
    for company_id in ("30", "10", "20"):
        portal.seed({"name": company_id}, company_id=company_id)
    assert [c.id for c in portal.live()] == ["10", "20", "30"]
    portal.seed({"name": "15"}, company_id="15")
    assert [c.id for c in portal.live(after=10)] == ["15", "20", "30"]


def test_search_by_value_sees_each_write_once_it_reaches_the_view() -> None:
    portal = Portal()
    company = portal.create({"name": "Acme", NUMBER: "1"}, visible_now=True)

    def found(*values: str) -> list[str]:
        body = {"filterGroups": [{"filters": [_in(NUMBER, values)]}], "limit": 100}
        view = portal.search_view()
        answer = run_search(view, body, portal.properties, SearchLimits(), portal.view_lookup)
        return [r["id"] for r in answer["results"]]

    assert found("1", "9") == [company.id]
    portal.update(company, {NUMBER: "2"})  # search_lag 0: visible at the next search
    assert found("1") == []
    assert found("2") == [company.id]
    portal.archive(company)
    assert found("2") == []


def _in(name: str, values: tuple[str, ...]) -> dict[str, object]:
    return {"propertyName": name, "operator": "IN", "values": list(values)}
