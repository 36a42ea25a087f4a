"""Deciding what an unlinked record is: already present on the other side, or new.

Pure. In order of trust: the record's own correlation key, a record on the other side
carrying this record's id as its correlation key (a create whose response was lost), then
the configured match keys in priority order (see :mod:`syncd.engine.keyrules` for how
they weigh against each other). Anything ambiguous is never linked automatically, and
never created either: a duplicate is worse than a delay. Nor is a record that only looks
like one on the other side (a ``[match] review`` key): it waits for a person's review.
"""

from __future__ import annotations

import functools
import itertools
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from syncd.engine.keyrules import are_told_apart, single_out
from syncd.matchkeys import key_values
from syncd.records import Record, Side


class MatchKind(StrEnum):
    LINK = "link"
    CREATE = "create"
    AMBIGUOUS = "ambiguous"
    CLASH = "clash"  # the correlation key points at a record linked to another one
    REVIEW = "review"  # only a review key ties it to records there: held for a person


@dataclass(frozen=True, slots=True)  # slots: a first sync decides every record
class MatchDecision:
    kind: MatchKind
    side: Side  # the side of ``record``
    record: Record
    partner: Record | None = None  # the record on the other side, for LINK
    reason: str = ""
    candidates: tuple[str, ...] = ()  # ids on the other side, for AMBIGUOUS, CLASH, REVIEW
    adopt: bool = False  # LINK to a record that holds another entity: give it this one


@dataclass(frozen=True)
class MatchInput:
    unlinked: Mapping[Side, Sequence[Record]]
    candidates: Mapping[Side, Sequence[Record]]  # records each side could offer as a partner
    linked: Mapping[Side, frozenset[str]]  # candidate ids that already have a link
    match_keys: Sequence[Sequence[str]]
    # Records that cannot be read (quarantined), with what could be read of them: one
    # of them may be the same company, so a record that looks like one is not created.
    held: Mapping[Side, Sequence[Record]] = field(default_factory=dict)
    # Records of the other entity on a side (a HubSpot company that is only a customer,
    # for suppliers): a match there is the same company, taking on a second role.
    adoptable: Mapping[Side, Sequence[Record]] = field(default_factory=dict)
    # Weaker keys: a record sharing one with an unlinked record there is held for review.
    review_keys: Sequence[Sequence[str]] = ()
    # (crm id, afas id) pairs a person declined in a match review: never held for it again.
    declined: frozenset[tuple[str, str]] = frozenset()


class KeyIndex:
    """One side's candidates, indexed so each lookup is a dict access (no all-pairs).

    A first sync indexes every record of a side under every key, so an entry is kept
    small: a one-part key value is the value itself (no tuple), and a value that one
    record holds maps to that record (a list only from the second one on).
    """

    def __init__(
        self, records: Sequence[Record], taken: frozenset[str], keys: Sequence[Sequence[str]]
    ) -> None:
        self.by_id = {r.id: r for r in records}
        self.taken = taken
        self.pointing_at: dict[str, list[Record]] = {}
        for r in records:
            if r.correlation:
                self.pointing_at.setdefault(r.correlation, []).append(r)
        self.by_key: dict[tuple[str, ...], dict[_Lookup, Record | list[Record]]] = {}
        for key in keys:
            index = self.by_key.setdefault(tuple(key), {})
            for r in records:
                if r.id not in taken:
                    for value in key_values(r.fields, key):
                        _add(index, _lookup(value), r)

    def matching(self, record: Record, key: Sequence[str]) -> list[Record]:
        index = self.by_key[tuple(key)]
        found: dict[str, Record] = {}  # a record may share several of a key's values
        for value in key_values(record.fields, key):
            held = index.get(_lookup(value))
            for r in () if held is None else [held] if isinstance(held, Record) else held:
                found.setdefault(r.id, r)
        return list(found.values())


_Lookup = str | tuple[str, ...]


def _lookup(value: tuple[str, ...]) -> _Lookup:
    return value[0] if len(value) == 1 else value


def _add(index: dict[_Lookup, Record | list[Record]], value: _Lookup, record: Record) -> None:
    held = index.get(value)
    if held is None:
        index[value] = record
    elif isinstance(held, Record):
        index[value] = [held, record]
    else:
        held.append(record)


def match_unlinked(inputs: MatchInput) -> list[MatchDecision]:
    """One decision per unlinked record; a pair found from both sides is decided once."""
    # The indexes are gone by the time the claims are settled (a first sync's are the
    # size of both listings' keys): only the proposals are kept for that.
    return _settle_claims(_proposals(inputs))


def _proposals(inputs: MatchInput) -> list[MatchDecision]:
    """What each unlinked record would be, seen from its own side alone."""
    return [p for side in Side for p in _proposals_of(side, inputs)]


def _proposals_of(side: Side, inputs: MatchInput) -> list[MatchDecision]:
    """The proposals of one side's unlinked records. The other side's indexes are gone
    when it returns: only one side's are ever alive (each a whole listing's, at first)."""
    return Partners.of(side.other, inputs).propose(inputs.unlinked[side])


class Partners:
    """One side's candidates (and its held and adoptable records), indexed once, to
    decide records of the other side by.

    A first sync indexes one side's whole listing so, and decides the other side's
    records page by page while that side is still being listed: only a CREATE decided
    so is final (nothing on this side relates to the record, and nothing listed later on
    the record's own side can change that: two records of one side never claim each
    other). Every other decision waits for both whole listings.
    """

    def __init__(
        self,
        side: Side,
        records: Sequence[Record],
        keys: Sequence[Sequence[str]],
        held: Sequence[Record] = (),
        adoptable: Sequence[Record] = (),
        taken: frozenset[str] = frozenset(),
        *,
        review_keys: Sequence[Sequence[str]] = (),
        declined: frozenset[tuple[str, str]] = frozenset(),
    ) -> None:
        self.side = side
        self.keys = [list(key) for key in keys]
        self.review_keys = [list(key) for key in review_keys]
        self.declined = declined
        self.pool = KeyIndex(records, taken, [*self.keys, *self.review_keys])
        self.held = KeyIndex(held, frozenset(), self.keys)
        self.adoptable = KeyIndex(adoptable, frozenset(), self.keys)

    @classmethod
    def of(cls, side: Side, inputs: MatchInput, *, adopting: bool = True) -> Partners:
        """``side``'s partners as ``inputs`` have them (without adoptable ones, if not
        ``adopting``)."""
        adoptable = inputs.adoptable.get(side, ()) if adopting else ()
        held = inputs.held.get(side, ())
        return cls(
            side,
            inputs.candidates[side],
            inputs.match_keys,
            held,
            adoptable,
            inputs.linked[side],
            review_keys=inputs.review_keys,
            declined=inputs.declined,
        )

    def propose(self, records: Iterable[Record]) -> list[MatchDecision]:
        """What each of ``records`` (of the other side) would be, seen from its side."""
        return [
            _adopting(_propose(self.side.other, record, self), self.adoptable, self.keys)
            for record in records
        ]

    def matching(self, record: Record, at: int) -> list[Record]:
        """This side's records sharing match key ``at``'s value with ``record`` (of the
        other side), less those a more trusted identifier tells apart from it."""
        return _not_told_apart(record, self.pool.matching(record, self.keys[at]), self.keys[:at])

    def resembling(self, record: Record) -> list[Record]:
        """This side's records sharing a review key's value with ``record``, unless an
        identifier tells them apart or a person declined the pair."""
        found: dict[str, Record] = {}
        for key in self.review_keys:
            for r in self.pool.matching(record, key):
                if not are_told_apart(record, r, self.keys) and not self._was_declined(record, r):
                    found[r.id] = r
        return list(found.values())

    def _was_declined(self, record: Record, mine: Record) -> bool:
        pair = (mine.id, record.id) if self.side is Side.CRM else (record.id, mine.id)
        return pair in self.declined

    def creates(self, records: Iterable[Record]) -> list[MatchDecision]:
        """The CREATE decisions among ``records`` (of the other side)."""
        return [d for d in self.propose(records) if d.kind is MatchKind.CREATE]

    def claims(self, record: Record) -> set[str]:
        """Ids of this side's records that ``record`` (of the other side) could be the
        same company as: the one its correlation key names, those naming it by theirs,
        those sharing a match key value with it (:meth:`matching`) and those it
        resembles (:meth:`resembling`)."""
        claimed = {r.id for r in self.pool.pointing_at.get(record.id, ())}
        if record.correlation in self.pool.by_id:
            claimed.add(record.correlation)
        for at in range(len(self.keys)):
            claimed.update(r.id for r in self.matching(record, at))
        claimed.update(r.id for r in self.resembling(record))
        return claimed

    def decide_page(
        self, records: Sequence[Record], held: Sequence[Record], adoptable: Sequence[Record]
    ) -> PageDecisions:
        """A page of the other side's listing, decided by this side's whole listing
        (a first sync's; none of this side's records is linked).

        Its creates are final at once. A pair is final once the other side is listed
        whole, if nothing else claimed this side's record of it: see
        :class:`PageDecisions`.
        """
        assert not self.pool.taken, "only for a side with nothing linked"
        decided = PageDecisions()
        for record, proposal in zip(records, self.propose(records), strict=True):
            claimed = self.claims(record)
            decided.claims.update(claimed)
            if proposal.kind is MatchKind.CREATE:
                decided.creates.append(proposal)
            elif _sole_pair(proposal, claimed):
                decided.pairs.append(proposal)
        for record in itertools.chain(held, adoptable):
            decided.claims.update(self.claims(record))
        return decided

    def unclaimed(self, claims: Collection[str]) -> list[MatchDecision]:
        """The CREATE decisions of this side's own records, once the other side's
        whole listing was claimed (:meth:`decide_page`): those nothing claimed.

        The mirror of :meth:`propose`: a record of this side would be proposed anything
        but CREATE against the other side's exactly when a record there names it by
        correlation key or shares a match or review key value with it that no
        identifier contradicts (keys compare the same canonical fields on both sides,
        and a contradiction or a declined pair is one both ways), or when it has a
        correlation key itself.
        """
        assert not self.pool.taken, "a linked candidate is never created"
        return [
            _create(self.side, record)
            for record in self.pool.by_id.values()
            if not record.correlation and record.id not in claims
        ]


@dataclass
class PageDecisions:
    """What a page of one side's listing is, decided by the other side's whole listing.

    ``pairs`` are links of a page's record that claims nothing but its partner (no
    other record of the indexed side shares a key value with it or names it by its
    correlation key), a record without a correlation key of its own. Once the page's
    side is listed whole,
    such a pair is final if its partner was claimed by that record alone
    (``claims`` counts, per record of the indexed side, the records claiming it): then
    neither record can be in another proposed pair, either side's proposal is this pair
    (match keys are symmetric), and leaving both out of the rest of the matching
    changes no other decision.
    """

    creates: list[MatchDecision] = field(default_factory=list)
    pairs: list[MatchDecision] = field(default_factory=list)
    claims: Counter[str] = field(default_factory=Counter)


def _sole_pair(proposal: MatchDecision, claimed: set[str]) -> bool:
    partner = proposal.partner
    return (
        proposal.kind is MatchKind.LINK
        and partner is not None
        and not proposal.adopt
        and partner.correlation is None
        and claimed == {partner.id}
    )


def unmatched(inputs: MatchInput) -> dict[Side, list[Record]]:
    """The unlinked records that no partner, clash or look-alike claims: only these are
    ever adopted by a record of the other entity, so only these need looking up there."""
    return {side: _unmatched_of(side, inputs) for side in Side}


def _unmatched_of(side: Side, inputs: MatchInput) -> list[Record]:
    """:func:`unmatched` of one side, with only the other side's indexes alive."""
    partners = Partners.of(side.other, inputs, adopting=False)
    return [d.record for d in partners.creates(inputs.unlinked[side])]


def _propose(side: Side, record: Record, partners: Partners) -> MatchDecision:
    pool, held, keys = partners.pool, partners.held, partners.keys
    if record.correlation and record.correlation in pool.by_id:
        partner = pool.by_id[record.correlation]
        crossed = partner.correlation and partner.correlation != record.id
        if crossed and partner.id not in pool.taken:
            return _crossed(side, record, partner)
        return _pair_or_clash(side, record, partner, pool.taken, "correlation key")
    if record.correlation and record.correlation not in held.by_id:
        return _dangling(side, record)
    pointing_back = pool.pointing_at.get(record.id, [])
    if len(pointing_back) == 1:
        return _pair_or_clash(side, record, pointing_back[0], pool.taken, "earlier create")
    if len(pointing_back) > 1:
        return _ambiguous(side, record, pointing_back, "several records carry its id")
    for at, key in enumerate(keys):
        found = partners.matching(record, at)
        if len(found) == 1:
            reason = _match_on(tuple(key))
            return MatchDecision(MatchKind.LINK, side, record, found[0], reason=reason)
        if len(found) > 1:
            branch = single_out(record, found, keys[at + 1 :])
            if branch is not None:
                reason = _match_on(tuple(key), branch=True)
                return MatchDecision(MatchKind.LINK, side, record, branch, reason=reason)
            return _ambiguous(side, record, found, f"several match on {'+'.join(key)}")
    look_alikes = _look_alikes(record, held, keys)
    if look_alikes:
        other = side.other
        why = f"it may be {other} record(s) {', '.join(look_alikes)}, in quarantine: fix those"
        return MatchDecision(MatchKind.AMBIGUOUS, side, record, reason=why, candidates=look_alikes)
    resembling = partners.resembling(record)
    if resembling:
        return _held_for_review(side, record, resembling)
    return _create(side, record)


def _held_for_review(side: Side, record: Record, resembling: Iterable[Record]) -> MatchDecision:
    ids = tuple(sorted(r.id for r in resembling))
    why = (
        f"it looks like {side.other} record(s) {', '.join(ids)} on a [match] review key: "
        "held until a person decides (syncd match --plan, then --apply)"
    )
    return MatchDecision(MatchKind.REVIEW, side, record, reason=why, candidates=ids)


def _create(side: Side, record: Record) -> MatchDecision:
    return MatchDecision(MatchKind.CREATE, side, record, reason="no match on the other side")


@functools.cache
def _match_on(key: tuple[str, ...], *, branch: bool = False) -> str:
    """The reason of a match on ``key``: one string per key, not one per decision (a
    first sync decides every record, and the plan's links keep the reason)."""
    shared = ", shared by several: the one a later key singles out" if branch else ""
    return f"match on {'+'.join(key)}{shared}"


def _adopting(
    decision: MatchDecision, adoptable: KeyIndex, keys: Sequence[Sequence[str]]
) -> MatchDecision:
    """A record about to be created may exist already under the other entity; one
    whose correlation key names a record of the other entity is that record (a debtor
    added to the organisation of a linked creditor shares its external key)."""
    named = adoptable.by_id.get(decision.record.correlation or "")
    if named is not None and decision.kind is MatchKind.CLASH and decision.partner is None:
        reason = "correlation key, a record of the other entity"
        return MatchDecision(
            MatchKind.LINK, decision.side, decision.record, named, reason=reason, adopt=True
        )
    if decision.kind is not MatchKind.CREATE:
        return decision
    record = decision.record
    for at, key in enumerate(keys):
        found = _not_told_apart(record, adoptable.matching(record, key), keys[:at])
        if len(found) == 1:
            return MatchDecision(
                MatchKind.LINK,
                decision.side,
                decision.record,
                found[0],
                reason=f"match on {'+'.join(key)}, a record of the other entity",
                adopt=True,
            )
        if len(found) > 1:
            return _ambiguous(decision.side, decision.record, found, "several match")
    return decision


def _look_alikes(record: Record, held: KeyIndex, keys: Sequence[Sequence[str]]) -> tuple[str, ...]:
    """Held records tied to ``record`` by a correlation key or by any match key that no
    identifier contradicts."""
    tied = {h.id for h in held.pointing_at.get(record.id, [])}
    if record.correlation in held.by_id:
        tied.add(record.correlation)
    for at, key in enumerate(keys):
        tied |= {h.id for h in _not_told_apart(record, held.matching(record, key), keys[:at])}
    return tuple(sorted(tied))


def _not_told_apart(
    record: Record, found: list[Record], earlier: Sequence[Sequence[str]]
) -> list[Record]:
    """``found`` less the records an identifier among ``earlier`` keys tells apart."""
    return [r for r in found if not are_told_apart(record, r, earlier)] if earlier else found


def _pair_or_clash(
    side: Side, record: Record, partner: Record, taken: frozenset[str], how: str
) -> MatchDecision:
    if partner.id in taken:
        owner = f" (its own key names {side} record {partner.correlation})"
        return MatchDecision(
            MatchKind.CLASH,
            side,
            record,
            reason=f"{how} points at {side.other} record {partner.id}, linked to another "
            f"record{owner if partner.correlation else ''}",
            candidates=(partner.id,),
        )
    return MatchDecision(MatchKind.LINK, side, record, partner, reason=how)


def _crossed(side: Side, record: Record, partner: Record) -> MatchDecision:
    """The correlation keys disagree: linking would take ``partner`` from another record."""
    why = (
        f"its correlation key names {side.other} record {partner.id}, whose own correlation "
        f"key names {side} record {partner.correlation}; correct the key that is wrong"
    )
    return MatchDecision(MatchKind.CLASH, side, record, reason=why, candidates=(partner.id,))


def _dangling(side: Side, record: Record) -> MatchDecision:
    """The correlation key names a record the other side does not show: never create a
    second one in its place, nor overwrite the key."""
    why = (
        f"its correlation key names {side.other} record {record.correlation}, which is not "
        "there (deleted, blocked, archived or of another entity): correct or clear the key"
    )
    assert record.correlation is not None
    return MatchDecision(
        MatchKind.CLASH, side, record, reason=why, candidates=(record.correlation,)
    )


def _ambiguous(side: Side, record: Record, found: Iterable[Record], why: str) -> MatchDecision:
    ids = tuple(sorted(c.id for c in found))
    return MatchDecision(MatchKind.AMBIGUOUS, side, record, reason=why, candidates=ids)


def _settle_claims(proposals: list[MatchDecision]) -> list[MatchDecision]:
    """Each record ends up in at most one link; a contested record links nothing.

    A pair proposed from both sides counts once. A record that appears in two different
    proposed pairs makes both pairs ambiguous, and a record inside any proposed pair is
    never also created.
    """
    pairs: dict[tuple[str, str], MatchDecision] = {}
    for p in proposals:
        if p.kind is MatchKind.LINK and p.partner is not None:
            pairs.setdefault(_pair_key(p.side, p.record.id, p.partner.id), p)
    # How many pairs each record is in (per side, by id: a first sync has a pair for
    # nearly every record, so no set of pairs per record), then the contested pairs.
    uses: dict[Side, Counter[str]] = {side: Counter() for side in Side}
    for crm_id, afas_id in pairs:
        uses[Side.CRM][crm_id] += 1
        uses[Side.AFAS][afas_id] += 1
    contested = {
        (crm_id, afas_id)
        for crm_id, afas_id in pairs
        if uses[Side.CRM][crm_id] > 1 or uses[Side.AFAS][afas_id] > 1
    }
    in_contested: dict[tuple[Side, str], set[tuple[str, str]]] = {}
    for crm_id, afas_id in contested:
        in_contested.setdefault((Side.CRM, crm_id), set()).add((crm_id, afas_id))
        in_contested.setdefault((Side.AFAS, afas_id), set()).add((crm_id, afas_id))
    decided = [d for pair, d in pairs.items() if pair not in contested]
    for p in proposals:
        count = uses[p.side][p.record.id]
        if not count:
            decided.append(p)
            continue
        mine = in_contested.get((p.side, p.record.id), set())
        if len(mine) == count and p.kind is not MatchKind.AMBIGUOUS:  # all its pairs contested
            decided.append(_contested(p, mine))
    return _one_per_record(decided)


def _contested(decision: MatchDecision, pairs: set[tuple[str, str]]) -> MatchDecision:
    partners = {afas if decision.side is Side.CRM else crm for crm, afas in pairs}
    return MatchDecision(
        MatchKind.AMBIGUOUS,
        decision.side,
        decision.record,
        reason="it and another record match the same partner",
        candidates=tuple(sorted(partners)),
    )


def _one_per_record(decisions: list[MatchDecision]) -> list[MatchDecision]:
    seen: dict[Side, set[str]] = {side: set() for side in Side}  # by side: no tuple each
    unique: list[MatchDecision] = []
    for d in decisions:
        if d.record.id not in seen[d.side]:
            seen[d.side].add(d.record.id)
            unique.append(d)
    return unique


def _pair_key(side: Side, record_id: str, partner_id: str) -> tuple[str, str]:
    return (record_id, partner_id) if side is Side.CRM else (partner_id, record_id)
