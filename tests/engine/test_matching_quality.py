"""First-run matching on a messy administration, measured: no false link, few duplicates.

The generated set (tests/engine/messy_admin.py) has each variation kind real data has.
syncd runs its first cycles with ``review_first = false`` (create what is new at once),
and every true pair ends up one of three ways:

- linked: syncd linked the two records itself;
- held: neither record was linked or created: both wait for a person's match review;
- duplicate: one of them was created on the other side (or linked to another record).

Precision is the share of syncd's links that are true pairs; it must be 1.0. Recall is
the share of true pairs that did *not* become duplicates (linked or held): a pair held
for review costs a person a decision, a duplicate costs a cleanup in both systems.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from syncd.engine.cycle import Connection, run_cycle
from syncd.gateways.memory import MemoryGateway
from syncd.mapping import load_mappings
from syncd.policy import Guards, SyncRules
from syncd.records import Side
from syncd.state.store import open_store
from tests.engine.messy_admin import Administrations, Fields, generate

MAPPINGS = load_mappings(Path(__file__).resolve().parents[2] / "mappings", ["customer", "supplier"])
ENTITY = "customer"
RULES = SyncRules(review_first=False, guards=Guards(min_records_for_share=100_000))


async def test_first_run_on_a_messy_administration(tmp_path: Path) -> None:
    admin = generate()
    crm, afas = MemoryGateway(Side.CRM, MAPPINGS), MemoryGateway(Side.AFAS, MAPPINGS)
    crm_ids = [crm.put(ENTITY, _as_typed(Side.CRM, f)) for f in admin.crm]
    afas_ids = [afas.put(ENTITY, _as_typed(Side.AFAS, f)) for f in admin.afas]
    store = await open_store(f"sqlite:///{tmp_path}/state.db")
    try:
        conn = Connection("messy", {Side.CRM: crm, Side.AFAS: afas}, store, MAPPINGS, RULES)
        for _ in range(3):  # creates too fresh for the first cycle follow in the next
            await run_cycle(conn, ENTITY)
        links = {(k.crm_id, k.afas_id) for k in await store.get_links("messy", ENTITY)}
    finally:
        await store.close()

    outcome = _outcomes(admin, crm_ids, afas_ids, links)
    true_pairs = {(crm_ids[c], afas_ids[a]) for c, a, _ in admin.pairs}
    ours = {(c, a) for c, a in links if c in crm_ids and a in afas_ids}  # not created ones
    wrong = ours - true_pairs
    precision = (len(ours) - len(wrong)) / len(ours)
    counts = Counter(outcome.values())
    recall = (counts["linked"] + counts["held"]) / len(admin.pairs)
    unlinked = {(s, i) for s, ids in ((Side.CRM, crm_ids), (Side.AFAS, afas_ids)) for i in ids}
    unlinked -= {(Side.CRM, c) for c, _ in links} | {(Side.AFAS, a) for _, a in links}
    ids = {Side.CRM: crm_ids, Side.AFAS: afas_ids}
    alone_held = Counter(kind for side, n, kind in admin.alone if (side, ids[side][n]) in unlinked)
    print(_report(admin, outcome, precision, recall, wrong))
    print("one side only, held instead of created: " + _per_kind(alone_held))

    assert not wrong, f"false links: {sorted(wrong)}"
    assert precision == 1.0
    assert recall > 0.95


def _as_typed(side: Side, fields: Fields) -> dict[str, object]:
    """The native row a person typed: the KvK number as it is (7 digits, at times)."""
    mapping = MAPPINGS[ENTITY]
    native = mapping.to_native(side, {k: v for k, v in fields.items() if k != "kvk"})
    native[mapping.native_name(side, "kvk")] = fields.get("kvk")
    return native


def _outcomes(
    admin: Administrations, crm_ids: list[str], afas_ids: list[str], links: set[tuple[str, str]]
) -> dict[int, str]:
    """Per true pair (by its place in ``admin.pairs``): linked, held or duplicate."""
    linked_crm = {c for c, _ in links}
    linked_afas = {a for _, a in links}
    found: dict[int, str] = {}
    for n, (c, a, _) in enumerate(admin.pairs):
        crm_id, afas_id = crm_ids[c], afas_ids[a]
        if (crm_id, afas_id) in links:
            found[n] = "linked"
        elif crm_id in linked_crm or afas_id in linked_afas:
            found[n] = "duplicate"
        else:
            found[n] = "held"
    return found


def _report(
    admin: Administrations,
    outcome: dict[int, str],
    precision: float,
    recall: float,
    wrong: set[tuple[str, str]],
) -> str:
    linked = sum(1 for o in outcome.values() if o == "linked")
    held = sum(1 for o in outcome.values() if o == "held")
    per_kind: dict[str, Counter[str]] = {}
    for n, (_, _, kind) in enumerate(admin.pairs):
        per_kind.setdefault(kind, Counter())[outcome[n]] += 1
    lines = [
        f"\n{len(admin.crm)} CRM and {len(admin.afas)} AFAS companies, "
        f"{len(admin.pairs)} true pairs; {len(wrong)} false links",
        f"precision {precision:.3f}; recall (linked or held, not duplicated) {recall:.3f}",
        f"of the true pairs linked by syncd {linked / len(admin.pairs):.3f}, "
        f"held for a person {held / len(admin.pairs):.3f}",
        f"{'kind':<16}{'pairs':>6}{'linked':>8}{'held':>6}{'duplicate':>11}",
    ]
    for kind, c in per_kind.items():
        total = sum(c.values())
        lines.append(f"{kind:<16}{total:>6}{c['linked']:>8}{c['held']:>6}{c['duplicate']:>11}")
    lines.append("one side only: " + _per_kind(Counter(kind for _, _, kind in admin.alone)))
    return "\n".join(lines)


def _per_kind(counts: Counter[str]) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items())) or "none"
