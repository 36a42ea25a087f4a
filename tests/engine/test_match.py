"""Matching unlinked records: correlation keys first, then match keys, never guessing."""

from __future__ import annotations

from collections.abc import Sequence

from syncd.engine.match import MatchDecision, MatchInput, MatchKind, match_unlinked
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
