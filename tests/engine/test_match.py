"""Matching unlinked records: correlation keys first, then match keys, never guessing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from syncd.engine.match import MatchDecision, MatchInput, MatchKind, Partners, match_unlinked
from syncd.records import Record, Side

CRM, AFAS = Side.CRM, Side.AFAS
KEYS = (("kvk",), ("name", "postcode"))


def rec(id: str, correlation: str | None = None, **fields: str | None) -> Record:
    return Record(id, fields, correlation=correlation)


def decide(
    crm: Sequence[Record] = (),
    afas: Sequence[Record] = (),
    *,
    crm_pool: Sequence[Record] = (),
    afas_pool: Sequence[Record] = (),
    linked_crm: frozenset[str] = frozenset(),
    linked_afas: frozenset[str] = frozenset(),
) -> list[MatchDecision]:
    return match_unlinked(
        MatchInput(
            unlinked={CRM: list(crm), AFAS: list(afas)},
            candidates={CRM: [*crm, *crm_pool], AFAS: [*afas, *afas_pool]},
            linked={CRM: linked_crm, AFAS: linked_afas},
            match_keys=KEYS,
        )
    )


def kinds(decisions: list[MatchDecision]) -> dict[tuple[Side, str], MatchKind]:
    return {(d.side, d.record.id): d.kind for d in decisions}


def test_no_partner_means_create() -> None:
    assert kinds(decide([rec("1", kvk="12345678")])) == {(CRM, "1"): MatchKind.CREATE}


def test_match_key_links_once_even_when_both_sides_are_unlinked() -> None:
    decisions = decide([rec("1", kvk="12345678")], [rec("A", kvk="12345678")])
    assert len(decisions) == 1
    assert decisions[0].kind is MatchKind.LINK
    assert {decisions[0].record.id, decisions[0].partner.id} == {"1", "A"}  # type: ignore[union-attr]


def test_composite_key_needs_every_part() -> None:
    crm = [rec("1", name="acme", postcode="1234 AB")]
    same_name_other_branch = [rec("A", name="acme", postcode="9999 ZZ")]
    assert kinds(decide(crm, same_name_other_branch))[(CRM, "1")] is MatchKind.CREATE
    assert kinds(decide(crm, [rec("B", name="acme", postcode="1234 AB")])) == {
        (CRM, "1"): MatchKind.LINK
    }


def test_blank_key_values_never_match() -> None:
    decisions = decide([rec("1", kvk=None)], afas_pool=[rec("A", kvk=None)])
    assert kinds(decisions) == {(CRM, "1"): MatchKind.CREATE}


def test_two_candidates_are_ambiguous_and_nothing_is_created() -> None:
    decisions = decide(
        [rec("1", kvk="12345678")],
        afas_pool=[rec("A", kvk="12345678"), rec("B", kvk="12345678")],
    )
    assert kinds(decisions) == {(CRM, "1"): MatchKind.AMBIGUOUS}
    assert decisions[0].candidates == ("A", "B")


def test_two_records_claiming_one_partner_link_neither() -> None:
    decisions = decide(
        [rec("1", kvk="12345678"), rec("2", kvk="12345678")],
        afas_pool=[rec("A", kvk="12345678")],
    )
    assert kinds(decisions) == {(CRM, "1"): MatchKind.AMBIGUOUS, (CRM, "2"): MatchKind.AMBIGUOUS}


def test_record_in_two_pairs_from_both_directions_is_contested() -> None:
    # CRM 1 matches AFAS A on kvk; AFAS A (unlinked too) carries CRM 2's id as correlation.
    decisions = decide(
        [rec("1", kvk="12345678")],
        [rec("A", correlation="2", kvk="12345678")],
        crm_pool=[rec("2")],
    )
    assert MatchKind.LINK not in kinds(decisions).values()


def test_already_linked_candidates_are_not_offered() -> None:
    decisions = decide(
        [rec("1", kvk="12345678")],
        afas_pool=[rec("A", kvk="12345678")],
        linked_afas=frozenset({"A"}),
    )
    assert kinds(decisions) == {(CRM, "1"): MatchKind.CREATE}


def test_own_correlation_key_wins_over_match_keys() -> None:
    decisions = decide(
        [rec("1", correlation="B", kvk="12345678")],
        afas_pool=[rec("A", kvk="12345678"), rec("B", kvk="87654321")],
    )
    assert decisions[0].kind is MatchKind.LINK
    assert decisions[0].partner.id == "B"  # type: ignore[union-attr]


def test_lost_create_is_found_by_the_id_it_carries() -> None:
    decisions = decide([rec("1", kvk="12345678")], afas_pool=[rec("A", correlation="1")])
    assert decisions[0].kind is MatchKind.LINK
    assert decisions[0].reason == "earlier create"


def test_correlation_to_a_record_linked_elsewhere_is_a_clash() -> None:
    decisions = decide(
        [rec("1", correlation="A")],
        afas_pool=[rec("A")],
        linked_afas=frozenset({"A"}),
    )
    assert kinds(decisions) == {(CRM, "1"): MatchKind.CLASH}


def test_a_correlation_key_naming_a_record_of_the_other_entity_adopts_it() -> None:
    # A creditor added in AFAS to the organisation of a linked debtor shares its
    # external key: the company it names is a customer only, not gone.
    creditor = rec("C1", correlation="9", kvk="12345678")
    customer_only = rec("9")  # no match key in common: the key alone says it
    data = MatchInput(
        unlinked={CRM: [], AFAS: [creditor]},
        candidates={CRM: [], AFAS: [creditor]},
        linked={CRM: frozenset(), AFAS: frozenset()},
        match_keys=KEYS,
        adoptable={CRM: [customer_only]},
    )
    [decision] = match_unlinked(data)
    assert decision.kind is MatchKind.LINK
    assert decision.adopt
    assert decision.partner == customer_only


def test_key_priority_first_key_decides() -> None:
    decisions = decide(
        [rec("1", kvk="12345678", name="acme", postcode="1234 AB")],
        afas_pool=[rec("A", kvk="12345678"), rec("B", name="acme", postcode="1234 AB")],
    )
    assert decisions[0].partner.id == "A"  # type: ignore[union-attr]


def test_a_look_alike_of_a_record_in_quarantine_is_held_not_created() -> None:
    decisions = match_unlinked(
        MatchInput(
            unlinked={CRM: [rec("1", kvk="12345678")], AFAS: []},
            candidates={CRM: [], AFAS: []},
            linked={CRM: frozenset(), AFAS: frozenset()},
            match_keys=KEYS,
            held={AFAS: [rec("A", kvk="12345678")]},
        )
    )
    assert kinds(decisions) == {(CRM, "1"): MatchKind.AMBIGUOUS}
    assert "quarantine" in decisions[0].reason


# -- the creates of a side indexed whole, from the other side's pages (first sync) ----------

# ids of CRM, AFAS and held records, and "X", of none
_ids = st.sampled_from(["0", "1", "2", "A0", "A1", "A2", "H0", "X"])
_value = st.sampled_from([None, "p", "q", "r"])


@st.composite
def _side_records(draw: st.DrawFn, prefix: str) -> list[Record]:
    """A few records with few distinct key values, so that matches, ties and
    correlation keys (to either side, or to nothing) are common."""
    count = draw(st.integers(0, 6))
    return [
        Record(
            f"{prefix}{n}",
            {"kvk": draw(_value), "name": draw(_value), "postcode": draw(_value)},
            correlation=draw(st.none() | _ids | st.just(f"{prefix}{n}")),
        )
        for n in range(count)
    ]


# A review key, and a pair a person declined: records alike only in postcode are held for
# review, unless their KvK numbers differ or the pair was declined.
LOOKS = (("postcode",),)
DECLINED = frozenset({("1", "A1")})
_NOTHING_ELSE: dict[str, Any] = {"held": [], "adoptable": [], "afas_held": [], "cut": 1}


def _summary(
    decisions: Sequence[MatchDecision],
) -> set[tuple[MatchKind, Side, str, str, str, tuple[str, ...]]]:
    """Each decision as a person reads it: what, of which records, and why."""
    return {
        (d.kind, d.side, d.record.id, d.partner.id if d.partner else "", d.reason, d.candidates)
        for d in decisions
    }


@given(
    afas=_side_records("A"),
    crm=_side_records(""),
    held=_side_records("H"),
    adoptable=_side_records("O"),
    afas_held=_side_records("G"),
    cut=st.integers(0, 6),
)
@example(  # the CRM record matches a second debtor on its second key: all contested
    afas=[rec("A0", kvk="p"), rec("A1", kvk="r", name="q", postcode="q")],
    crm=[rec("0", kvk="p", name="q", postcode="q")],
    **_NOTHING_ELSE,
)
@example(  # the debtor's correlation key names another CRM record: contested
    afas=[rec("A0", "1", kvk="p")],
    crm=[rec("0", kvk="p"), rec("1", kvk="q")],
    **_NOTHING_ELSE,
)
@example(  # a second CRM record claims the debtor: neither pair is certain
    afas=[rec("A0", kvk="p", name="q", postcode="q")],
    crm=[rec("0", kvk="p"), rec("1", name="q", postcode="q")],
    **_NOTHING_ELSE,
)
@example(  # a debtor's key names the CRM record paired by its own key: not the pair's to take
    afas=[rec("A0"), rec("A1", "0")],
    crm=[rec("0", "A0")],
    **_NOTHING_ELSE,
)
@example(  # alike on the review key only: held on both sides, nothing early
    afas=[rec("A0", postcode="p")],
    crm=[rec("0", postcode="p"), rec("1", postcode="p")],
    **_NOTHING_ELSE,
)
@example(  # the name and postcode match, the KvK numbers differ: two companies
    afas=[rec("A0", kvk="p", name="q", postcode="q")],
    crm=[rec("0", kvk="r", name="q", postcode="q")],
    **_NOTHING_ELSE,
)
@settings(max_examples=400, deadline=None)
def test_deciding_one_side_page_by_page_decides_as_matching_both_whole(
    afas: list[Record],
    crm: list[Record],
    held: list[Record],
    adoptable: list[Record],
    afas_held: list[Record],
    cut: int,
) -> None:
    """A first sync's early decisions: AFAS listed whole and indexed, the CRM's pages
    decided by it as they come (creates at once, sole pairs once the CRM is listed
    whole, AFAS's creates from what nothing claimed), then the rest matched as usual.
    Together they are what matching both whole listings decides."""
    whole = match_unlinked(
        MatchInput(
            unlinked={CRM: crm, AFAS: afas},
            candidates={CRM: crm, AFAS: afas},
            linked={CRM: frozenset(), AFAS: frozenset()},
            match_keys=KEYS,
            held={CRM: held, AFAS: afas_held},
            adoptable={CRM: adoptable},
            review_keys=LOOKS,
            declined=DECLINED,
        )
    )

    indexed = Partners(AFAS, afas, KEYS, afas_held, review_keys=LOOKS, declined=DECLINED)
    pages = [
        indexed.decide_page(crm[:cut], held[:1], []),
        indexed.decide_page(crm[cut:], held[1:], adoptable),
    ]
    claims = sum((page.claims for page in pages), Counter[str]())
    early = [d for page in pages for d in page.creates]
    early += [d for page in pages for d in page.pairs if claims[d.partner.id] == 1]  # type: ignore[union-attr]
    early += indexed.unclaimed(claims)
    decided = {(d.side, d.record.id) for d in early} | {
        (AFAS, d.partner.id) for d in early if d.partner is not None
    }
    rest = {
        side: [r for r in records if (side, r.id) not in decided]
        for side, records in ((CRM, crm), (AFAS, afas))
    }
    later = match_unlinked(
        MatchInput(
            unlinked=rest,
            candidates=rest,
            linked={CRM: frozenset(), AFAS: frozenset()},
            match_keys=KEYS,
            held={CRM: held, AFAS: afas_held},
            adoptable={CRM: adoptable},
            review_keys=LOOKS,
            declined=DECLINED,
        )
    )

    assert _summary([*early, *later]) == _summary(whole)


# -- what real administrations hit ------------------------------------------------------

SHIPPED = (("kvk",), ("vat",), ("iban",), ("name:business", "postcode"))
REVIEW = (("email:domain",), ("name:business", "city"))


def decide_shipped(
    crm: Sequence[Record], afas: Sequence[Record], keys: Any = SHIPPED, **more: Any
) -> dict[tuple[Side, str], MatchDecision]:
    """Both sides unlinked, matched on the shipped mappings' keys (or ``keys``)."""
    decisions = match_unlinked(
        MatchInput(
            unlinked={CRM: list(crm), AFAS: list(afas)},
            candidates={CRM: list(crm), AFAS: list(afas)},
            linked={CRM: frozenset(), AFAS: frozenset()},
            match_keys=keys,
            **more,
        )
    )
    found = {(d.side, d.record.id): d for d in decisions}
    for d in decisions:  # a pair is decided once: show it from both records
        if d.partner is not None:
            found[(d.side.other, d.partner.id)] = d
    return found


def test_a_holding_is_not_its_operating_company_at_the_same_address() -> None:
    at = {"postcode": "1234 AB", "city": "Utrecht"}
    decided = decide_shipped(
        [rec("1", name="Jansen Holding B.V.", kvk="11111111", **at)],
        [rec("A", name="Jansen B.V.", kvk="22222222", **at)],
    )
    assert decided[(CRM, "1")].kind is MatchKind.CREATE
    assert decided[(AFAS, "A")].kind is MatchKind.CREATE


def test_a_kvk_vat_or_iban_that_disagrees_vetoes_a_name_match() -> None:
    same = {"name": "Bakkerij Jansen B.V.", "postcode": "1234 AB"}
    for number, (mine, theirs) in {
        "kvk": ("11111111", "22222222"),
        "vat": ("NL111111111B01", "NL222222222B01"),
        "iban": ("NL02ABNA0123456789", "NL44RABO0123456789"),
    }.items():
        decided = decide_shipped(
            [rec("1", **same, **{number: mine})], [rec("A", **same, **{number: theirs})]
        )
        assert decided[(CRM, "1")].kind is MatchKind.CREATE, number
    # a number one side lacks says nothing: the name and postcode link them
    decided = decide_shipped([rec("1", **same, kvk="11111111")], [rec("A", **same)])
    assert decided[(CRM, "1")].kind is MatchKind.LINK


def test_branches_sharing_a_kvk_number_are_told_apart_by_name_and_postcode() -> None:
    chain = {"name": "Bakkerij Jansen B.V.", "kvk": "11111111"}
    crm = [rec("1", **chain, postcode="1234 AB"), rec("2", **chain, postcode="5678 CD")]
    afas = [rec("B", **chain, postcode="5678 CD"), rec("A", **chain, postcode="1234 AB")]
    decided = decide_shipped(crm, afas)
    assert decided[(CRM, "1")].partner.id == "A"  # type: ignore[union-attr]
    assert decided[(CRM, "2")].partner.id == "B"  # type: ignore[union-attr]
    assert "singles out" in decided[(CRM, "1")].reason


def test_a_branch_number_where_a_side_has_it_links_the_branch() -> None:
    keys = (("branch_number",), *SHIPPED)
    chain = {"name": "Bakkerij Jansen B.V.", "kvk": "11111111", "postcode": "1234 AB"}
    # two branches at one postcode (a business park): only their numbers tell them apart
    crm = [
        rec("1", **chain, branch_number="000012345678"),
        rec("2", **chain, branch_number="000087654321"),
    ]
    afas = [rec("A", **chain, branch_number="000012345678")]
    decided = decide_shipped(crm, afas, keys)
    assert decided[(CRM, "1")].kind is MatchKind.LINK
    assert {decided[(CRM, "1")].record.id, decided[(CRM, "1")].partner.id} == {"1", "A"}  # type: ignore[union-attr]
    assert decided[(CRM, "2")].kind is MatchKind.CREATE


def test_a_look_alike_on_a_review_key_is_held_on_both_sides_not_created() -> None:
    crm = [rec("1", name="Techn. Bureau Jansen", email="info@jansen.nl")]
    afas = [rec("A", name="Technisch Bureau Jansen B.V.", email="post@jansen.nl")]
    decided = decide_shipped(crm, afas, review_keys=REVIEW)
    assert decided[(CRM, "1")].kind is MatchKind.REVIEW
    assert decided[(CRM, "1")].candidates == ("A",)
    assert decided[(AFAS, "A")].kind is MatchKind.REVIEW
    assert decided[(AFAS, "A")].candidates == ("1",)


def test_a_look_alike_told_apart_by_an_identifier_or_declined_is_created() -> None:
    crm = [rec("1", name="Jansen", email="info@jansen.nl", kvk="11111111")]
    other_company = [rec("A", name="Jansen & Zn", email="a@jansen.nl", kvk="22222222")]
    decided = decide_shipped(crm, other_company, review_keys=REVIEW)
    assert decided[(CRM, "1")].kind is MatchKind.CREATE
    unnumbered = [rec("A", name="Jansen & Zn", email="a@jansen.nl")]
    declined = frozenset({("1", "A")})
    decided = decide_shipped(crm, unnumbered, review_keys=REVIEW, declined=declined)
    assert decided[(CRM, "1")].kind is MatchKind.CREATE
    assert decided[(AFAS, "A")].kind is MatchKind.CREATE
