"""A first run on a generated data set with known truth: no wrong link, no duplicate.

The CRM and AFAS hold overlapping companies the way real ones do: exact copies, copies
without a KvK number and with the legal form written differently, copies known only by
VAT number or IBAN, copies with a typo in the name, branches of one chain (same name,
other postcode), unrelated companies sharing an e-mail domain, and companies that are
both customer and supplier. The test prints precision and recall of the automatic links.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncd.engine.cycle import Connection, run_cycle
from syncd.engine.matchplan import parse_kept_pairs, to_csv
from syncd.engine.review import apply_match_plan, match_plan
from syncd.gateways.memory import MemoryGateway
from syncd.mapping import load_mappings
from syncd.policy import Guards, SyncRules
from syncd.records import Side, Value
from syncd.sim.companies import companies
from syncd.state.store import StateStore

MAPPINGS = load_mappings(Path(__file__).resolve().parents[2] / "mappings", ["customer", "supplier"])
CRM, AFAS = Side.CRM, Side.AFAS
Fields = dict[str, Value]


@dataclasses.dataclass
class World:
    crm: MemoryGateway
    afas: MemoryGateway
    truth: set[tuple[str, str, str]]  # (entity, crm id, afas id) that are one company

    def put(self, side: Side, entity: str, fields: Fields) -> str:
        gateway = self.crm if side is CRM else self.afas
        return gateway.put(entity, MAPPINGS[entity].to_native(side, fields))


def _legal_variant(name: Value) -> str:
    text = str(name)
    for before, after in ((" B.V.", " BV"), (" N.V.", " nv"), (" V.O.F.", " vof")):
        if text.endswith(before):
            return text.removesuffix(before) + after
    return text + " B.V."


def _typo(name: Value, rng: random.Random) -> str:
    text = str(name)
    at = rng.randrange(1, len(text) - 1)
    return text[:at] + text[at + 1 :]


def _without(fields: Fields, *names: str) -> Fields:
    return {k: (None if k in names else v) for k, v in fields.items()}


def build(seed: int = 11, size: int = 400) -> World:
    rng = random.Random(seed)
    world = World(
        MemoryGateway(CRM, MAPPINGS, page_size=500),
        MemoryGateway(AFAS, MAPPINGS, page_size=500),
        set(),
    )
    pool: Iterator[Fields] = (c.fields for c in companies(size + 40, seed=seed))

    def both(crm: Fields, afas: Fields, entity: str = "customer") -> None:
        pair = (entity, world.put(CRM, entity, crm), world.put(AFAS, entity, afas))
        world.truth.add(pair)

    for n in range(size):
        c = next(pool)
        kind = n % 20
        if kind < 9:  # exact copies
            both(c, dict(c))
        elif kind < 12:  # no KvK/VAT/IBAN in AFAS, legal form written differently
            both(c, {**_without(c, "kvk", "vat", "iban"), "name": _legal_variant(c["name"])})
        elif kind < 13:  # known by VAT number only
            both(c, _without(c, "kvk", "iban"))
        elif kind < 14:  # known by IBAN only
            both(c, _without(c, "kvk", "vat"))
        elif kind < 15:  # a typo and no identifiers: for a person to review
            both(c, {**_without(c, "kvk", "vat", "iban"), "name": _typo(c["name"], rng)})
        elif kind < 16:  # a branch: same name and e-mail domain, other place and numbers
            world.put(CRM, "customer", c)
            branch = {**next(pool), "name": c["name"], "email": c["email"]}
            world.put(AFAS, "customer", branch)
        elif kind < 17:  # both customer and supplier
            both(c, dict(c))
            both(c, dict(c), "supplier")
        elif kind < 19:
            world.put(CRM, "customer", c)
        else:
            world.put(AFAS, "customer", c)
    return world


def score(world: World, links: set[tuple[str, str, str]]) -> tuple[float, float]:
    correct = links & world.truth
    precision = len(correct) / len(links) if links else 1.0
    recall = len(correct) / len(world.truth)
    return precision, recall


RULES = SyncRules(review_first=True, guards=Guards(min_records_for_share=100_000))


@pytest.mark.parametrize("seed", [11, 12])
async def test_first_run_links_without_a_wrong_link(store: StateStore, seed: int) -> None:
    world = build(seed)
    conn = Connection("first", {CRM: world.crm, AFAS: world.afas}, store, MAPPINGS, RULES)

    auto: set[tuple[str, str, str]] = set()
    for entity in ("customer", "supplier"):
        plan = await match_plan(conn, entity)
        auto |= {(entity, p.crm.id, p.afas.id) for p in plan if p.keep}
        reviewed = [p for p in plan if p.kind == "review"]
        assert reviewed or entity == "supplier"  # typos and shared domains are proposed
        # The operator keeps the proposals that are really one company, drops the rest.
        edited = [
            dataclasses.replace(
                p, kind="auto" if (entity, p.crm.id, p.afas.id) in world.truth else "review"
            )
            for p in plan
        ]
        await apply_match_plan(conn, entity, parse_kept_pairs(to_csv(edited), "plan.csv"))
    precision, recall = score(world, auto)
    print(
        f"\nseed {seed}: {len(auto)} automatic links, precision {precision:.3f}, "
        f"recall {recall:.3f} of {len(world.truth)} true pairs"
    )
    assert precision == 1.0
    assert recall > 0.9

    for entity in ("customer", "supplier"):
        await run_cycle(conn, entity)
        report = await run_cycle(conn, entity)
        assert report.plan.writes == 0
        crm_rows = len(world.crm.rows(entity))
        afas_rows = len(world.afas.rows(entity))
        links = {(entity, k.crm_id, k.afas_id) for k in await store.get_links("first", entity)}
        assert {t for t in world.truth if t[0] == entity} <= links
        assert crm_rows == afas_rows == len(links)  # every company once on each side


async def test_nothing_is_created_before_the_review(store: StateStore) -> None:
    world = build(13, size=40)
    conn = Connection("first", {CRM: world.crm, AFAS: world.afas}, store, MAPPINGS, RULES)
    before = (len(world.crm.rows("customer")), len(world.afas.rows("customer")))

    report = await run_cycle(conn, "customer")

    assert report.counts["create_skipped"] > 0
    assert (len(world.crm.rows("customer")), len(world.afas.rows("customer"))) == before
    assert report.counts["linked"] > 0  # confident matches are linked all the same
