"""The simulated portal's look-ups (unique values, id order, search by value) follow writes."""

from __future__ import annotations

import random

import pytest

from syncd.sim.hubspot.portal import Invalid, NotFound, Portal
from syncd.sim.hubspot.search import RememberedSearches, SearchLimits, run_search

NUMBER = "afas_debtor_number"
EMPLOYEES = "numberofemployees"
VALID = ["", "7", "12", "12.5", "-3", "40"]


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


@pytest.mark.parametrize("seed", range(5))
def test_range_filters_find_what_testing_every_company_finds(seed: int) -> None:
    """A window of times or numbers is a slice of an ordered index; the answers are the
    ones a test of every company gives, also as companies change and go."""
    rng = random.Random(seed)
    portal = Portal()
    companies = [  # seeded unchecked: some hold what is no number
        portal.seed({"name": f"C{n}", "numberofemployees": rng.choice(["many", "NaN", *VALID])})
        for n in range(60)
    ]
    for _ in range(4):
        for company in rng.sample(companies, 10):
            portal.update(company, {"numberofemployees": rng.choice(VALID)})
        portal.archive(rng.choice(companies))
        view = portal.search_view()
        times = sorted(p["hs_lastmodifieddate"] for p in view.values())
        for body in _range_searches(rng, times):
            indexed = run_search(view, body, portal.properties, SearchLimits(), portal.view_lookup)
            tested = run_search(view, body, portal.properties, SearchLimits(), None)
            assert indexed == tested


def _range_searches(rng: random.Random, times: list[str]) -> list[dict[str, object]]:
    low, high = sorted(rng.sample(times, 2))
    employees = str(rng.choice([-5, 0, 7, 12, 30]))
    filters: list[list[dict[str, object]]] = [
        [_filter("hs_lastmodifieddate", "GTE", low), _filter("hs_lastmodifieddate", "LTE", high)],
        [_filter("hs_lastmodifieddate", "GT", low), _filter("name", "NEQ", "C1")],
        [_filter("hs_lastmodifieddate", "LT", high)],
        [{**_filter("numberofemployees", "BETWEEN", "0"), "highValue": employees}],
        [_filter("numberofemployees", "EQ", employees)],
        [_filter("numberofemployees", "GTE", employees)],  # text compares as text
        [
            _in("name", tuple(f"C{n}" for n in range(40))),
            _filter("hs_lastmodifieddate", "GTE", low),
        ],
        [_filter("numberofemployees", "GT", "abc")],
    ]
    return [{"filterGroups": [{"filters": group}], "limit": 200} for group in filters]


def _filter(name: str, operator: str, value: str) -> dict[str, object]:
    return {"propertyName": name, "operator": operator, "value": value}


def test_the_pages_of_a_remembered_search_follow_changes_to_the_view() -> None:
    portal = Portal()
    for n in range(7):
        portal.create({"name": f"Acme {n}", NUMBER: str(n)}, visible_now=True)
    remembered = RememberedSearches(lambda: portal.view_version)
    asked: list[int] = []

    def page(after: int, *, remember: bool = True) -> list[str]:
        body = {
            "filterGroups": [
                {"filters": [{"propertyName": NUMBER, "operator": "GTE", "value": "1"}]}
            ],
            "sorts": [{"propertyName": NUMBER, "direction": "DESCENDING"}],
            "limit": 3,
            "after": str(after),
        }
        view = portal.search_view()
        memory = remembered if remember else None
        answer = run_search(view, body, portal.properties, SearchLimits(), None, memory)
        asked.append(answer["total"])
        return [r["properties"]["name"] for r in answer["results"]]

    assert page(0) + page(3) == page(0, remember=False) + page(3, remember=False)
    assert page(3) == ["Acme 3", "Acme 2", "Acme 1"]
    portal.create({"name": "Acme 9", NUMBER: "9"}, visible_now=True)
    assert page(3) == ["Acme 4", "Acme 3", "Acme 2"]  # the query ran again
    assert asked[-1] == 7


@pytest.mark.parametrize("seed", range(3))
def test_a_keyset_paged_search_answers_as_its_filters_say_also_as_the_view_changes(
    seed: int,
) -> None:
    """The next page of a search paged by id is sought in the remembered matches of the
    query without its ``hs_object_id`` GT filter; the answer is what the filter gives."""
    rng = random.Random(seed)
    portal = Portal()
    companies = [
        portal.create({"name": f"C{n}", EMPLOYEES: str(rng.randrange(5))}, visible_now=True)
        for n in range(40)
    ]
    remembered = RememberedSearches(lambda: portal.view_version)

    def page(past: str | None, *, remember: bool) -> dict[str, object]:
        filters = [_filter(EMPLOYEES, "GTE", "2")]
        if past is not None:
            filters.append(_filter("hs_object_id", "GT", past))
        body = {
            "filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
            "limit": 4,
        }
        view = portal.search_view()
        memory = remembered if remember else None
        return run_search(view, body, portal.properties, SearchLimits(), portal.view_lookup, memory)

    for _ in range(3):
        past: str | None = None
        while True:
            sought = page(past, remember=True)
            assert sought == page(past, remember=False)
            results = sought["results"]
            assert isinstance(results, list)
            if len(results) < 4:
                break
            past = results[-1]["id"]
            portal.update(rng.choice(companies), {EMPLOYEES: str(rng.randrange(5))})
