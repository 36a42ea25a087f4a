"""The gateway contract suite: what every Gateway must do, tested through the protocol.

Plugging a gateway in
---------------------
Subclass :class:`GatewayContract` in a test module (its name must start with ``Test``)
and give it one fixture, ``harness``, that yields a :class:`GatewayHarness` for the
``entity`` and ``mappings`` fixtures the suite provides. Every contract test then runs
against your gateway, once per entity::

    from tests.gateways.contract import GatewayContract, GatewayHarness

    class TestAfasGatewayContract(GatewayContract):
        @pytest.fixture
        async def harness(
            self, entity: str, mappings: dict[str, EntityMapping]
        ) -> AsyncIterator[GatewayHarness]:
            async with afas_simulator(mappings, page_size=4) as sim:
                yield AfasHarness(sim, AfasGateway(sim.url, mappings), page_size=4)

The harness is the gateway plus a minimal *user*: a person who creates and edits records
in the system by hand (for a simulator: straight into its store, not through the
gateway), and who can leave a row the mapping cannot read. Keep ``page_size`` small
(3 to 5): the suite seeds two pages and a bit to cross page boundaries.

Sample data comes from the shipped fixture (``tests/fixtures/systems.json``) read through
the shipped mappings (``mappings/``), so the suite follows the mappings as they change.
A test module may override :meth:`GatewayContract.samples` for other data (with
:func:`shipped_samples`, say, made to fit its side: the AFAS suite puts its contacts at a
company it seeds), :meth:`GatewayContract.another` for a side that keeps a value unique
(HubSpot contacts' e-mail), where the suite creates a record like one it created before,
and :meth:`GatewayContract.required` for the fields without which its side refuses a new
record (an AFAS contact: its company and a last name).

What is tested is the contract in :mod:`syncd.gateways.base`: create then read;
create stores the correlation key; update is partial and moves the modification time;
a batch update (of a BatchGateway) returns at least the fields written, as stored;
changed_since and list_all are complete and cross pages, each page ascending by
(modified, id);
deactivate hides a record everywhere; unknown ids are simply absent; find_by_values;
an unmappable row is rejected without hiding the rest of its page; blanks read as None.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

import pytest

from syncd.errors import RecordError
from syncd.gateways.base import BatchGateway, Gateway
from syncd.gateways.fixture import load_fixture
from syncd.mapping import KNOWN_ENTITIES, EntityMapping, load_mappings
from syncd.records import Page, Record, RejectedRecord, Value

ROOT = Path(__file__).resolve().parents[3]
SHIPPED_MAPPINGS = ROOT / "mappings"
SHIPPED_FIXTURE = ROOT / "tests" / "fixtures" / "systems.json"

Fields = dict[str, Value]


class GatewayHarness(Protocol):
    """A gateway under test, and a user who works in the same system by hand."""

    @property
    def gateway(self) -> Gateway:
        """The gateway under test, for every entity of the mappings."""
        ...

    @property
    def page_size(self) -> int:
        """Records per page of the gateway's listings (keep it small)."""
        ...

    async def seed(self, entity: str, fields: Mapping[str, Value]) -> str:
        """A user creates a record with these canonical fields; returns its id."""
        ...

    async def edit(self, entity: str, record_id: str, fields: Mapping[str, Value]) -> None:
        """A user changes these canonical fields of a record."""
        ...

    async def seed_unmappable(self, entity: str) -> str:
        """A user leaves a row that the mapping cannot read; returns its id."""
        ...


async def collect(pages: AsyncIterator[Page]) -> tuple[list[Page], list[Record], list[str]]:
    """Every page of a listing, its records in order, and the ids of its rejected rows."""
    seen = [page async for page in pages]
    records = [r for page in seen for r in page.records]
    rejected = [r.id for page in seen for r in page.rejected]
    return seen, records, rejected


async def shipped_samples(entity: str, mappings: Mapping[str, EntityMapping]) -> list[Fields]:
    """The different records of ``entity`` in the shipped fixture (three or more)."""
    found: list[Fields] = []
    for gateway in load_fixture(SHIPPED_FIXTURE, mappings):
        _, records, _ = await collect(gateway.list_all(entity))
        for record in records:
            if dict(record.fields) not in found:
                found.append(dict(record.fields))
    assert len(found) >= 3, f"the shipped fixture needs three or more {entity} records"
    return found


def _requests(gateway: Gateway) -> int:
    """Requests the gateway sent so far (its ``requests_sent``, see the contract)."""
    sent = getattr(gateway, "requests_sent", None)
    assert isinstance(sent, int), "a gateway counts the requests it sends"
    return sent


def order_key(record: Record) -> tuple[datetime, str]:
    assert record.modified is not None, f"record {record.id} has no modification time"
    return record.modified, record.id


class GatewayContract:
    """The contract tests; subclass as ``Test<Name>Contract`` with a ``harness`` fixture."""

    @pytest.fixture(params=KNOWN_ENTITIES)
    def entity(self, request: pytest.FixtureRequest) -> str:
        name: str = request.param
        return name

    @pytest.fixture
    def mappings(self) -> dict[str, EntityMapping]:
        return load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)

    @pytest.fixture
    async def samples(self, entity: str, mappings: dict[str, EntityMapping]) -> list[Fields]:
        """Valid canonical records of ``entity``, all different (at least three)."""
        return await shipped_samples(entity, mappings)

    @pytest.fixture
    def required(self, entity: str) -> tuple[str, ...]:
        """The fields a new record of ``entity`` must have on this side (none by default)."""
        return ()

    # -- helpers ----------------------------------------------------------------------

    def another(self, entity: str, fields: Fields, number: int) -> Fields:
        """The ``number``-th further record like ``fields``, to create beside it: the same
        fields here; a side that keeps a value unique makes that value differ."""
        return fields

    def nth(self, entity: str, samples: Sequence[Fields], n: int) -> Fields:
        """The n-th record of a run of creates: the samples over and over, each round
        made another record of its own (:meth:`another`)."""
        rounds, position = divmod(n, len(samples))
        return self.another(entity, samples[position], rounds) if rounds else samples[position]

    @staticmethod
    def differing_field(a: Mapping[str, Value], b: Mapping[str, Value]) -> str:
        """A field both records fill, with different values."""
        for name, value in a.items():
            if value is not None and b.get(name) is not None and b[name] != value:
                return name
        raise AssertionError("the samples need two records that differ on a filled field")

    @staticmethod
    async def read_one(gateway: Gateway, entity: str, record_id: str) -> Record:
        page = await gateway.read(entity, [record_id])
        assert [r.id for r in page.records] == [record_id], page
        return page.records[0]

    async def seed_many(
        self, harness: GatewayHarness, entity: str, samples: Sequence[Fields], count: int
    ) -> list[str]:
        return [await harness.seed(entity, samples[i % len(samples)]) for i in range(count)]

    # -- create and read --------------------------------------------------------------

    async def test_create_then_read(
        self, harness: GatewayHarness, entity: str, samples: list[Fields]
    ) -> None:
        gateway = harness.gateway
        created = await gateway.create(entity, samples[0], "corr-1")
        assert created.id
        assert created.fields == samples[0]
        assert created.modified is not None
        assert created.modified.tzinfo is not None
        assert await self.read_one(gateway, entity, created.id) == created

    async def test_create_stores_the_correlation_key(
        self, harness: GatewayHarness, entity: str, samples: list[Fields]
    ) -> None:
        gateway = harness.gateway
        created = await gateway.create(entity, samples[0], "corr-42")
        await gateway.create(entity, samples[1], "corr-43")
        assert created.correlation == "corr-42"
        found = await gateway.find_by_correlation(entity, ["corr-42", "corr-unknown"])
        assert found == {"corr-42": created}

    async def test_find_by_correlation_asks_for_many_keys_at_once(
        self, harness: GatewayHarness, entity: str, samples: list[Fields]
    ) -> None:
        """After a crash every create in doubt is looked up: a chunk of keys a request
        (at most a page's worth), not a request a key."""
        gateway = harness.gateway
        keys = [f"corr-{n}" for n in range(2 * harness.page_size + 1)]
        made = {
            k: await gateway.create(entity, self.nth(entity, samples, n), k)
            for n, k in enumerate(keys)
        }
        before = _requests(gateway)
        found = await gateway.find_by_correlation(entity, [*keys, "corr-unknown"])
        assert found == made
        assert _requests(gateway) - before <= math.ceil((len(keys) + 1) / harness.page_size)

    async def test_create_with_some_fields_leaves_the_rest_blank(
        self,
        harness: GatewayHarness,
        entity: str,
        samples: list[Fields],
        required: tuple[str, ...],
    ) -> None:
        given = {k: samples[0][k] for k in required}
        name, value = next(
            (k, v) for k, v in samples[0].items() if v is not None and k not in required
        )
        created = await harness.gateway.create(entity, {**given, name: value}, "corr-1")
        assert created.fields == {k: {**given, name: value}.get(k) for k in samples[0]}

    async def test_read_leaves_out_unknown_ids(
        self, harness: GatewayHarness, entity: str, samples: list[Fields]
    ) -> None:
        record_id = await harness.seed(entity, samples[0])
        page = await harness.gateway.read(entity, ["999999999", record_id, "no-such-id"])
        assert [r.id for r in page.records] == [record_id]
        assert page.rejected == []
        empty = await harness.gateway.read(entity, [])
        assert empty.records == []
        assert empty.rejected == []

    # -- update -------------------------------------------------------------------------

    async def test_update_writes_only_the_given_fields(
        self, harness: GatewayHarness, entity: str, samples: list[Fields]
    ) -> None:
        gateway = harness.gateway
        name = self.differing_field(samples[0], samples[1])
        record_id = await harness.seed(entity, samples[0])
        before = await self.read_one(gateway, entity, record_id)
        updated = await gateway.update(entity, record_id, {name: samples[1][name]})
        after = await self.read_one(gateway, entity, record_id)
        assert updated == after
        assert after.fields == {**samples[0], name: samples[1][name]}
        assert before.modified is not None
        assert after.modified is not None
        assert after.modified > before.modified

    async def test_update_sets_the_correlation_key_when_given(
        self, harness: GatewayHarness, entity: str, samples: list[Fields]
    ) -> None:
        gateway = harness.gateway
        record_id = await harness.seed(entity, samples[0])
        assert (await self.read_one(gateway, entity, record_id)).correlation is None
        await gateway.update(entity, record_id, {}, correlation="corr-7")
        found = await gateway.find_by_correlation(entity, ["corr-7"])
        assert list(found) == ["corr-7"]
        assert found["corr-7"].id == record_id
        assert found["corr-7"].fields == samples[0]

    async def test_update_without_correlation_keeps_it(
        self, harness: GatewayHarness, entity: str, samples: list[Fields]
    ) -> None:
        gateway = harness.gateway
        name = self.differing_field(samples[0], samples[1])
        created = await gateway.create(entity, samples[0], "corr-8")
        updated = await gateway.update(entity, created.id, {name: samples[1][name]})
        assert updated.correlation == "corr-8"

    async def test_update_of_an_unknown_record_is_refused(
        self, harness: GatewayHarness, entity: str, samples: list[Fields]
    ) -> None:
        with pytest.raises(RecordError):
            await harness.gateway.update(entity, "999999999", samples[0])

    async def test_update_batch_returns_at_least_the_fields_written_as_stored(
        self, harness: GatewayHarness, entity: str, samples: list[Fields]
    ) -> None:
        gateway = harness.gateway
        if not isinstance(gateway, BatchGateway):
            pytest.skip("not a BatchGateway")
        name = self.differing_field(samples[0], samples[1])
        record_id = await harness.seed(entity, samples[0])
        written = {name: samples[1][name]}
        updated, unknown = await gateway.update_batch(
            entity, [(record_id, written, None), ("999999999", written, None)]
        )
        after = await self.read_one(gateway, entity, record_id)
        assert after.fields == {**samples[0], **written}
        assert isinstance(updated, Record)
        assert updated.id == record_id
        assert updated.modified == after.modified
        assert updated.fields[name] == samples[1][name]
        # Other fields may be left out (unknown), but any it holds are as stored.
        assert {k: after.fields[k] for k in updated.fields} == dict(updated.fields)
        assert isinstance(unknown, RecordError)

    async def test_blank_values_round_trip_as_none(
        self,
        harness: GatewayHarness,
        entity: str,
        samples: list[Fields],
        required: tuple[str, ...],
    ) -> None:
        gateway = harness.gateway
        filled = [k for k, v in samples[0].items() if v is not None and k not in required]
        blanked, cleared = filled[0], filled[-1]
        created = await gateway.create(entity, {**samples[0], blanked: None}, "corr-1")
        assert created.fields[blanked] is None
        await gateway.update(entity, created.id, {cleared: None})
        after = await self.read_one(gateway, entity, created.id)
        assert after.fields == {**samples[0], blanked: None, cleared: None}

    # -- listings -------------------------------------------------------------------------

    async def test_changed_since_none_lists_every_record_across_pages(
        self, harness: GatewayHarness, entity: str, samples: list[Fields]
    ) -> None:
        ids = await self.seed_many(harness, entity, samples, 2 * harness.page_size + 1)
        pages, records, rejected = await collect(harness.gateway.changed_since(entity, None))
        assert len(pages) >= 3
        assert all(len(page.records) <= harness.page_size for page in pages)
        assert sorted(r.id for r in records) == sorted(ids)
        assert all(page.records == sorted(page.records, key=order_key) for page in pages)
        assert rejected == []

    async def test_changed_since_returns_exactly_the_records_modified_at_or_after(
        self, harness: GatewayHarness, entity: str, samples: list[Fields]
    ) -> None:
        gateway = harness.gateway
        await self.seed_many(harness, entity, samples, 2 * harness.page_size + 2)
        _, everything, _ = await collect(gateway.changed_since(entity, None))
        everything.sort(key=order_key)
        since = order_key(everything[len(everything) // 3])[0]
        pages, records, _ = await collect(gateway.changed_since(entity, since))
        expected = [r for r in everything if order_key(r)[0] >= since]
        assert len(expected) > harness.page_size
        assert sorted(records, key=order_key) == expected
        assert all(page.records == sorted(page.records, key=order_key) for page in pages)

    async def test_changed_since_finds_an_edit_by_a_user(
        self, harness: GatewayHarness, entity: str, samples: list[Fields]
    ) -> None:
        gateway = harness.gateway
        ids = await self.seed_many(harness, entity, samples, 3)
        name = self.differing_field(samples[0], samples[1])
        newest = max(order_key(r) for r in (await gateway.read(entity, ids)).records)
        await harness.edit(entity, ids[0], {name: samples[1][name]})
        _, records, _ = await collect(gateway.changed_since(entity, newest[0]))
        edited = [r for r in records if r.id == ids[0]]
        assert len(edited) == 1
        assert edited[0].fields[name] == samples[1][name]
        assert order_key(edited[0]) > newest
        assert records[-1].id == ids[0]

    async def test_changed_since_after_the_newest_record_is_empty(
        self, harness: GatewayHarness, entity: str, samples: list[Fields]
    ) -> None:
        ids = await self.seed_many(harness, entity, samples, 2)
        newest = max(order_key(r) for r in (await harness.gateway.read(entity, ids)).records)
        later = newest[0].replace(year=newest[0].year + 1)
        _, records, rejected = await collect(harness.gateway.changed_since(entity, later))
        assert records == []
        assert rejected == []

    async def test_list_all_lists_every_record_once_across_pages(
        self, harness: GatewayHarness, entity: str, samples: list[Fields]
    ) -> None:
        ids = await self.seed_many(harness, entity, samples, 2 * harness.page_size + 1)
        pages, records, rejected = await collect(harness.gateway.list_all(entity))
        assert len(pages) >= 3
        assert sorted(r.id for r in records) == sorted(ids)
        assert len({r.id for r in records}) == len(records)
        assert rejected == []

    async def test_an_empty_entity_lists_nothing(
        self, harness: GatewayHarness, entity: str
    ) -> None:
        _, records, rejected = await collect(harness.gateway.changed_since(entity, None))
        assert records == []
        assert rejected == []
        _, records, rejected = await collect(harness.gateway.list_all(entity))
        assert records == []
        assert rejected == []

    # -- find ---------------------------------------------------------------------------

    async def test_find_by_values_compares_canonical_values(
        self, harness: GatewayHarness, entity: str, samples: list[Fields]
    ) -> None:
        name = self.differing_field(samples[0], samples[1])
        twins = [await harness.seed(entity, samples[0]) for _ in range(2)]
        other = await harness.seed(entity, samples[1])
        value, other_value = samples[0][name], samples[1][name]
        assert value is not None
        assert other_value is not None
        found = await harness.gateway.find_by_values(entity, name, [value])
        assert sorted(r.id for r in found) == sorted(twins)
        assert all(r.fields[name] == value for r in found)
        both = await harness.gateway.find_by_values(entity, name, [value, other_value, "zzz"])
        assert sorted(r.id for r in both) == sorted([*twins, other])
        assert await harness.gateway.find_by_values(entity, name, []) == []

    # -- deactivate -----------------------------------------------------------------------

    async def test_deactivate_hides_the_record_everywhere(
        self, harness: GatewayHarness, entity: str, samples: list[Fields]
    ) -> None:
        gateway = harness.gateway
        name = self.differing_field(samples[0], samples[1])
        value = samples[0][name]
        assert value is not None
        gone = await gateway.create(entity, samples[0], "corr-gone")
        kept = await gateway.create(entity, self.another(entity, samples[0], 1), "corr-kept")
        await gateway.deactivate(entity, gone.id)

        _, changed, _ = await collect(gateway.changed_since(entity, None))
        _, listed, _ = await collect(gateway.list_all(entity))
        assert [r.id for r in changed] == [kept.id]
        assert [r.id for r in listed] == [kept.id]
        page = await gateway.read(entity, [gone.id, kept.id])
        assert [r.id for r in page.records] == [kept.id]
        assert page.rejected == []
        found = await gateway.find_by_correlation(entity, ["corr-gone", "corr-kept"])
        assert list(found) == ["corr-kept"]
        assert [r.id for r in await gateway.find_by_values(entity, name, [value])] == [kept.id]

    # -- rows that cannot be mapped -------------------------------------------------------

    async def test_an_unmappable_row_is_rejected_and_the_page_goes_on(
        self, harness: GatewayHarness, entity: str, samples: list[Fields]
    ) -> None:
        gateway = harness.gateway
        good = await self.seed_many(harness, entity, samples, harness.page_size)
        bad = await harness.seed_unmappable(entity)
        good += await self.seed_many(harness, entity, samples, harness.page_size)

        for listing in (gateway.changed_since(entity, None), gateway.list_all(entity)):
            pages, records, rejected = await collect(listing)
            assert sorted(r.id for r in records) == sorted(good)
            assert rejected == [bad]
            reason = next(r for page in pages for r in page.rejected)
            assert isinstance(reason, RejectedRecord)
            assert reason.message

        page = await gateway.read(entity, [good[0], bad])
        assert [r.id for r in page.records] == [good[0]]
        assert [r.id for r in page.rejected] == [bad]
