"""Fuzzing HubSpot's answers: list, search and batch read parsers, and the client.

Whatever HubSpot (or something in its place) answers, syncd raises only its own errors
(SyncdError) or reads records and rejections; a good company is never lost next to a bad
one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar

from hypothesis import example, given
from hypothesis import strategies as st

from syncd.errors import RecordError, SyncdError
from syncd.gateways.base import BatchOutcome
from syncd.gateways.hubspot.client import HubSpotClient, Reply
from syncd.gateways.hubspot.gateway import HubSpotGateway
from syncd.mapping import KNOWN_ENTITIES, load_mappings
from syncd.records import Page, Record
from syncd.sim.hubspot import DEFAULT_PROPERTIES
from tests.badinput.strategies import FUZZ, FUZZ_SLOW, attempt, json_values, junk_row, words
from tests.gateways.contract.gateway_contract import SHIPPED_MAPPINGS

MAPPINGS = load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)
SPEC = MAPPINGS["customer"].crm
ROLE = {SPEC.options["role_property"]: SPEC.options["role_value"]}
PROPERTY_NAMES = [SPEC.id, SPEC.modified, SPEC.correlation, *ROLE] + [
    f.crm for f in MAPPINGS["customer"].fields
]
TOKEN = "pat-fuzz-token"
T = TypeVar("T")


class CannedClient(HubSpotClient):
    """Answers the first call to each path with the fuzzed document, later ones empty."""

    def __init__(self, answer: Any) -> None:
        super().__init__(TOKEN)
        self.answer = answer
        self.asked: set[str] = set()

    async def call(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        search: bool = False,
        write: bool = False,
        token: str | None = None,
    ) -> Reply:
        if "/properties/" in path:
            return Reply(200, {"results": [p.to_json() for p in DEFAULT_PROPERTIES.values()]})
        key = f"{method} {path}"
        if key in self.asked:  # a second page: none (a fuzzed cursor would never end)
            return Reply(200, {"results": []})
        self.asked.add(key)
        return Reply(200, self.answer)


def run(answer: Any, read: Callable[[HubSpotGateway], Coroutine[Any, Any, T]]) -> T:
    gateway = HubSpotGateway(TOKEN, MAPPINGS, client=CannedClient(answer))
    return asyncio.run(read(gateway))


async def listing(gateway: HubSpotGateway) -> Page:
    page = Page()
    async for part in gateway.list_all("customer"):
        page.records.extend(part.records)
        page.rejected.extend(part.rejected)
    return page


async def batch_read(gateway: HubSpotGateway) -> Page:
    return await gateway.read("customer", [str(n) for n in range(1, 20)])


async def search(gateway: HubSpotGateway) -> Page:
    return Page(records=await gateway.find_by_values("customer", "kvk", ["12345678"]))


READERS = {"list": listing, "batch_read": batch_read, "search": search}


@FUZZ
@given(answer=json_values, reader=st.sampled_from(sorted(READERS)))
@example({"results": [{"id": "1", "properties": {SPEC.modified: "10" * 20, **ROLE}}]}, "list")
@example({"results": [{"id": "1", "properties": "none"}], "total": "many"}, "search")
def test_any_json_answer_gives_records_or_a_syncd_error(answer: Any, reader: str) -> None:
    page, error = attempt(lambda: run(answer, READERS[reader]))
    assert TOKEN not in str(error)
    for record in page.records if page else []:
        assert record.id.isdigit()


good_companies = st.lists(
    st.builds(
        lambda name, ms: {
            "properties": {"name": name, "city": "Utrecht", SPEC.modified: str(ms), **ROLE}
        },
        words,
        st.integers(1_600_000_000_000, 1_800_000_000_000),
    ),
    max_size=6,
)
junk_companies = st.lists(
    st.builds(
        lambda props, extra: {**extra, "properties": {**props, **ROLE}},
        junk_row(PROPERTY_NAMES),
        st.dictionaries(st.sampled_from(["updatedAt", "archived", "createdAt"]), json_values),
    ),
    max_size=6,
)


@FUZZ_SLOW
@given(
    good=good_companies,
    junk=junk_companies,
    order=st.randoms(use_true_random=False),
    reader=st.sampled_from(["list", "batch_read"]),
)
def test_a_good_company_is_never_lost_next_to_bad_ones(
    good: list[dict[str, Any]], junk: list[dict[str, Any]], order: Any, reader: str
) -> None:
    results = [{**c, "id": str(n + 1)} for n, c in enumerate(good)]
    results += [{**c, "id": str(100 + n)} for n, c in enumerate(junk)]
    order.shuffle(results)
    try:
        page = run({"results": results}, READERS[reader])
    except SyncdError:
        return  # the answer was refused whole: nothing skipped unseen
    read = {r.id for r in page.records}
    assert {str(n + 1) for n in range(len(good))} <= read
    assert {c["id"] for c in results} == read | {r.id for r in page.rejected}


@FUZZ
@given(
    status=st.sampled_from([200, 201, 204, 207, 400, 401, 404, 409, 429, 500, 502, 503]),
    body=st.binary(max_size=200),
    write=st.booleans(),
)
def test_any_answer_body_gives_a_reply_or_a_syncd_error(
    status: int, body: bytes, write: bool
) -> None:
    client = HubSpotClient(TOKEN)
    reply, error = attempt(
        lambda: client._read_reply("HubSpot GET /x", status, body, {}, write=write)
    )
    assert TOKEN not in str(error)
    if status >= 300:
        assert error is not None  # an error status is never taken for an answer
    if reply is not None:
        assert reply.status == status


async def update_batch(gateway: HubSpotGateway) -> list[BatchOutcome]:
    items = [(str(n), {"name": f"Bedrijf {n}"}, None) for n in range(1, 4)]
    return await gateway.update_batch("customer", items)


async def create_batch(gateway: HubSpotGateway) -> list[BatchOutcome]:
    items = [({"name": f"Bedrijf {n}"}, f"1000{n}") for n in range(1, 4)]
    return await gateway.create_batch("customer", items)


WRITERS = {"update": update_batch, "create": create_batch}


@FUZZ
@given(answer=json_values, writer=st.sampled_from(sorted(WRITERS)))
@example({"status": "COMPLETE", "results": [{"id": 1, "properties": []}], "errors": [7]}, "update")
def test_any_batch_write_answer_gives_one_outcome_per_item_or_a_syncd_error(
    answer: Any, writer: str
) -> None:
    outcomes, error = attempt(lambda: run(answer, WRITERS[writer]))
    assert TOKEN not in str(error)
    if outcomes is not None:
        assert len(outcomes) == 3
        assert all(isinstance(o, Record | RecordError) for o in outcomes)
