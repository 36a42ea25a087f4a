"""The simulator's indexes answer exactly as testing every row does, and test few rows."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from syncd.gateways.afas.profit_time import to_wall
from syncd.sim.afas import AfasSimulator, SimClock
from syncd.sim.afas import query as afas_query
from syncd.sim.afas.query import QueryOptions, run
from syncd.sim.afas.store import ProfitData

ENTITY = "customer"
# the night Amsterdam's clocks go back: 02:00-03:00 wall time happens twice
FALL_BACK = datetime(2025, 10, 26, 0, 30, tzinfo=UTC)
CITIES = ["Utrecht", "utrecht", "Zeist", "Delft", None]


def seeded(count: int) -> AfasSimulator:
    sim = AfasSimulator(clock=SimClock(start=FALL_BACK, step=timedelta(minutes=7)))
    rng = random.Random(count)
    for n in range(count):
        row: dict[str, object] = {
            "DebtorName": f"Relatie {n}",
            "City": rng.choice(CITIES),
            "HouseNumber": rng.choice([None, 1, 2, 2, 30]),
        }
        if n % 3:  # the rest get the clock's next tick
            row["ModifiedDate"] = FALL_BACK + timedelta(minutes=rng.randrange(0, 240, 15))
        sim.data.seed(ENTITY, row)
    return sim


def queries(numbers: list[str]) -> Iterator[dict[str, str]]:
    """The shapes syncd sends (key reads, keyset pages, change windows) and others."""
    some = [*numbers[3:9], "999999"]
    yield _filter(["DebtorId"] * len(some), some, ["1"] * len(some), order="DebtorId")
    yield _filter(["DebtorId"], [numbers[5]], ["1"])
    yield {"orderbyfieldids": "DebtorId", "take": "7"}
    yield {"orderbyfieldids": "DebtorId", "take": "7", "skip": "14"}
    yield _filter(["DebtorId"], [numbers[10]], ["4"], order="DebtorId", take="5")
    yield _filter(["DebtorId"], [numbers[10]], ["4"], order="-DebtorId", take="5")
    for wall in ("2025-10-26T02:30:00", "2025-10-26T03:00:00", "2025-10-26T01:45:00"):
        for op in "2345":
            yield _filter(["ModifiedDate"], [wall], [op], order="ModifiedDate,DebtorId")
        yield _filter(["ModifiedDate"], [wall], ["2"], order="ModifiedDate", take="4")
    yield _filter(
        ["ModifiedDate", "ModifiedDate", "DebtorId"],
        ["2025-10-26T02:00:00", "2025-10-26T03:00:00", numbers[2]],
        ["2", "5", "4"],
        order="DebtorId",
    )
    yield _filter(["City"], ["UTRECHT"], ["1"], order="HouseNumber")
    yield _filter(["City", "City"], ["zeist", "Delft"], ["1", "1"], groups=True, order="City")
    yield _filter(["City", "HouseNumber"], ["utrecht", "2"], ["1", "2"], order="HouseNumber")
    yield _filter(["HouseNumber"], ["2"], ["3"], order="HouseNumber")
    yield _filter(["HouseNumber"], ["2"], ["4"], order="DebtorName", take="3")
    yield _filter(["HouseNumber"], ["1"], ["2"], order="City")  # ties: in table order
    yield _filter(["City", "HouseNumber"], ["Zeist", "2"], ["1", "1"], groups=True)


def _filter(
    fields: list[str],
    values: list[str],
    ops: list[str],
    *,
    order: str = "",
    take: str = "1000",
    groups: bool | None = None,
) -> dict[str, str]:
    # one OR-group per term for reads of many keys (as the gateway sends them), else AND
    separator = (
        ";" if groups or (groups is None and len(set(fields)) == 1 and ops[0] == "1") else ","
    )
    params = {
        "filterfieldids": separator.join(fields),
        "filtervalues": separator.join(values),
        "operatortypes": separator.join(ops),
        "skip": "0",
        "take": take,
    }
    if order:
        params["orderbyfieldids"] = order
    return params


def answer(data: ProfitData, params: dict[str, str]) -> list[Any]:
    connector = data.environment.connector_for(ENTITY)
    options = QueryOptions(shuffle_unordered=False)
    body = run(data, connector, params, options, random.Random(0))
    rows = body["rows"]
    assert isinstance(rows, list)
    return rows


def scanned(data: ProfitData, params: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    with monkeypatch.context() as patch:
        patch.setattr(afas_query, "lookup", lambda *args: None)
        return answer(data, params)


def test_indexed_queries_answer_as_a_scan_does_before_and_after_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim = seeded(60)
    data = sim.data
    numbers = sorted(r.number for r in data.each(ENTITY))
    for params in queries(numbers):
        assert answer(data, params) == scanned(data, params, monkeypatch), params
    # Changes after the indexes were built: an edit moves a row's date and city, a delete
    # and an insert change the table (an index kept from before would answer otherwise).
    edited, deleted = numbers[4], numbers[6]
    for change in ("edit", "delete", "insert"):
        if change == "edit":
            data.edit(ENTITY, edited, {"City": "Zeist"})
        elif change == "delete":
            data.delete(ENTITY, deleted)
        else:
            data.seed(ENTITY, {"DebtorName": "Late", "City": "Utrecht"})
        numbers = sorted(r.number for r in data.each(ENTITY))
        for params in queries(numbers):
            assert answer(data, params) == scanned(data, params, monkeypatch), (change, params)
    moved = answer(data, _filter(["City"], ["zeist"], ["1"], order="ModifiedDate"))
    assert moved[-1]["DebtorName"] == "Relatie 4"


def test_a_table_emptied_by_hand_is_seen() -> None:
    data = seeded(10).data
    everything = {"orderbyfieldids": "DebtorId", "take": "100"}
    assert len(answer(data, everything)) == 10
    kept = dict(data.relations[ENTITY])
    data.relations[ENTITY].clear()
    assert answer(data, everything) == []
    data.relations[ENTITY].update(kept)
    assert len(answer(data, everything)) == 10


def test_numbers_with_capitals_are_found_without_regard_to_case(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = seeded(5).data
    data.seed(ENTITY, {"DebtorId": "D100", "DebtorName": "Typed by a user"})
    params = _filter(["DebtorId"], ["d100"], ["1"])
    assert [row["DebtorName"] for row in answer(data, params)] == ["Typed by a user"]
    assert answer(data, params) == scanned(data, params, monkeypatch)


def test_a_read_of_a_few_keys_or_a_recent_window_tests_only_those_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = seeded(2000).data
    numbers = sorted(r.number for r in data.each(ENTITY))
    fifth_newest = sorted(to_wall(r.modified) for r in data.each(ENTITY))[-5]
    window = f"{fifth_newest:%Y-%m-%dT%H:%M:%S}"
    reads = [
        _filter(["DebtorId"] * 3, numbers[100:103], ["1"] * 3, order="DebtorId"),
        _filter(["ModifiedDate"], [window], ["2"], order="ModifiedDate"),
        _filter(["DebtorId"], [numbers[1990]], ["4"], order="DebtorId", take="5"),
        {"orderbyfieldids": "DebtorId", "take": "5"},
    ]
    for params in reads:
        answer(data, params)  # builds the index it needs, once
        tested = _counting(data, monkeypatch)
        rows = answer(data, params)
        assert 3 <= len(rows) <= 5
        assert len({id(relation) for relation in tested}) == len(rows), params


def _counting(data: ProfitData, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    calls: list[object] = []
    value = data.value

    def counted(*args: Any) -> object:
        calls.append(args[1])
        return value(*args)

    monkeypatch.setattr(data, "value", counted)
    return calls
