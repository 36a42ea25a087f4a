"""The reviewable match plan of a first run: every proposed link, scored, for a person.

Pure. Confident matches (a unique match on a ``[match] keys`` key) are proposed with
``keep = yes``; ambiguous ones and matches on the weaker ``[match] review`` keys with
``keep = no``, for the operator to decide. ``syncd match --apply`` links the rows kept,
and remembers the rest as declined: records held back for review are then created.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from syncd.engine.match import MatchInput, MatchKind, match_unlinked
from syncd.engine.plan import reconcile_pair
from syncd.engine.reconcile import FieldRule, Outcome
from syncd.matchkeys import element_value
from syncd.records import Record, Side

COMPARED = ("kvk", "vat", "iban", "email:domain", "name:business", "postcode", "city")
COLUMNS = (
    "keep",
    "kind",
    "score",
    "crm_id",
    "afas_id",
    "agreed",
    "disagreed",
    "crm_name",
    "afas_name",
    "first_link",
)


@dataclass(frozen=True)
class Proposal:
    kind: str  # auto, ambiguous or review
    crm: Record
    afas: Record
    agreed: tuple[str, ...]
    disagreed: tuple[str, ...]
    # Per mapped field that differs: whose value it takes once linked ("name=afas"), or
    # "name=manual" for a conflict left to a person.
    takes: tuple[str, ...] = ()

    @property
    def score(self) -> float:
        compared = len(self.agreed) + len(self.disagreed)
        return round(len(self.agreed) / compared, 2) if compared else 0.0

    @property
    def keep(self) -> bool:
        return self.kind == "auto"

    def on(self, side: Side) -> Record:
        return self.crm if side is Side.CRM else self.afas


def propose(
    records: Mapping[Side, Sequence[Record]],
    linked: Mapping[Side, frozenset[str]],
    match_keys: Sequence[Sequence[str]],
    review_keys: Sequence[Sequence[str]],
    declined: frozenset[tuple[str, str]] = frozenset(),
) -> list[Proposal]:
    """Proposals for every unlinked record, best first."""
    unlinked = {s: [r for r in records[s] if r.id not in linked[s]] for s in Side}
    by_id = {s: {r.id: r for r in records[s]} for s in Side}
    inputs = MatchInput(
        unlinked, records, linked, match_keys, review_keys=review_keys, declined=declined
    )
    found: dict[tuple[str, str], Proposal] = {}
    for d in match_unlinked(inputs):
        if d.kind is MatchKind.LINK and d.partner is not None:
            _add(found, "auto", d.side, d.record, d.partner)
        elif d.kind in _FOR_A_PERSON:
            for other_id in d.candidates:
                if other := by_id[d.side.other].get(other_id):
                    _add(found, _FOR_A_PERSON[d.kind], d.side, d.record, other)
    return sorted(found.values(), key=lambda p: (p.kind != "auto", -p.score, p.crm.id))


_FOR_A_PERSON = {MatchKind.AMBIGUOUS: "ambiguous", MatchKind.REVIEW: "review"}


def count_held_back(proposals: Iterable[Proposal]) -> Counter[Side]:
    """Per side, how many records wait for this review (in a proposal not kept yet)."""
    waiting = {(side, p.on(side).id) for p in proposals if not p.keep for side in Side}
    return Counter(side for side, _ in waiting)


def _add(
    found: dict[tuple[str, str], Proposal], kind: str, side: Side, record: Record, other: Record
) -> None:
    crm, afas = (record, other) if side is Side.CRM else (other, record)
    if (crm.id, afas.id) in found:
        return
    agreed, disagreed = compare(crm, afas)
    found[(crm.id, afas.id)] = Proposal(kind, crm, afas, agreed, disagreed)


def compare(crm: Record, afas: Record) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Which compared fields agree and which disagree (blank on either side: neither)."""
    agreed: list[str] = []
    disagreed: list[str] = []
    for element in COMPARED:
        a, b = element_value(crm.fields, element), element_value(afas.fields, element)
        if a is None or b is None:
            continue
        (agreed if a == b else disagreed).append(element)
    return tuple(agreed), tuple(disagreed)


def to_csv(proposals: Iterable[Proposal]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for p in proposals:
        writer.writerow(
            [
                "yes" if p.keep else "no",
                p.kind,
                f"{p.score:.2f}",
                p.crm.id,
                p.afas.id,
                " ".join(p.agreed),
                " ".join(p.disagreed),
                p.crm.fields.get("name") or "",
                p.afas.fields.get("name") or "",
                " ".join(p.takes),
            ]
        )
    return out.getvalue()


_TAKEN = (Outcome.PROPAGATE, Outcome.RESOLVED, Outcome.CONFLICT)


def takes_at_first_link(
    crm: Record, afas: Record, rules: Mapping[str, FieldRule], newest_tie: Side
) -> tuple[str, ...]:
    """What linking ``crm`` and ``afas`` does with each field they differ in, as the
    cycle after the link decides it: ``field=side`` whose value it takes, or
    ``field=manual``."""
    decisions = reconcile_pair({}, crm, afas, rules, newest_tie)
    return tuple(
        f"{d.field}={'manual' if d.target is None else d.target.other}"
        for d in decisions
        if d.outcome in _TAKEN
    )


class MatchPlanError(ValueError):
    """A match plan file that cannot be applied as it is."""


def parse_kept_pairs(text: str, source: str) -> list[tuple[str, str]]:
    """The (crm_id, afas_id) rows marked keep = yes; every bad row named at once."""
    return parse_reviewed_pairs(text, source)[0]


def parse_reviewed_pairs(
    text: str, source: str
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The (crm_id, afas_id) rows marked keep = yes, and those marked no (a person said
    they are not one company); every bad row named at once."""
    rows = list(csv.DictReader(io.StringIO(text)))
    problems = []
    pairs: list[tuple[str, str]] = []
    declined: list[tuple[str, str]] = []
    for number, row in enumerate(rows, start=2):
        keep = (row.get("keep") or "").strip().lower()
        pair = ((row.get("crm_id") or "").strip(), (row.get("afas_id") or "").strip())
        if keep not in ("yes", "no"):
            problems.append(f"{source} line {number}: keep must be yes or no, not {keep!r}")
        elif keep == "yes":
            pairs.append(pair)
        else:
            declined.append(pair)
    for side, index in (("crm", 0), ("afas", 1)):
        counts = Counter(p[index] for p in pairs)
        twice = sorted(i for i, n in counts.items() if n > 1)
        if twice:
            problems.append(f"{source}: {side} ids kept in more than one row: {', '.join(twice)}")
    if problems:
        raise MatchPlanError("\n".join(problems))
    return pairs, declined
