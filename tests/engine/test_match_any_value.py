"""A match key element of every value ("email:any"): a HubSpot contact's work e-mail and
its additional e-mails, any of which matches the other record's e-mail."""

from __future__ import annotations

from syncd.engine.match import MatchDecision, MatchInput, MatchKind, match_unlinked
from syncd.records import Record, Side

CRM, AFAS = Side.CRM, Side.AFAS
KEYS = (("email", "company"), ("email:any", "company"))


def person(id: str, company: str, email: str, others: str | None = None) -> Record:
    return Record(id, {"company": company, "email": email, "email+others": others})


def decide(crm: list[Record], afas: list[Record]) -> dict[tuple[Side, str], MatchDecision]:
    decisions = match_unlinked(
        MatchInput(
            unlinked={CRM: crm, AFAS: afas},
            candidates={CRM: crm, AFAS: afas},
            linked={CRM: frozenset(), AFAS: frozenset()},
            match_keys=KEYS,
        )
    )
    return {(d.side, d.record.id): d for d in decisions}


def partner_of(decisions: dict[tuple[Side, str], MatchDecision], side: Side, id: str) -> str:
    """The id ``side``'s record ``id`` is linked to, whichever side decided the pair."""
    for d in decisions.values():
        if d.kind is MatchKind.LINK and d.partner is not None:
            ends = {d.side: d.record.id, d.side.other: d.partner.id}
            if ends[side] == id:
                return ends[side.other]
    raise AssertionError(f"{side} {id} is not linked: {decisions}")


def held_for_a_person(decisions: dict[tuple[Side, str], MatchDecision]) -> set[str]:
    """The CRM ids held as ambiguous over AFAS contact A; fails on any link or create."""
    assert all(d.kind is MatchKind.AMBIGUOUS for d in decisions.values()), decisions
    assert all(d.candidates == ("A",) for d in decisions.values() if d.side is CRM)
    return {d.record.id for d in decisions.values() if d.side is CRM}


def test_an_additional_e_mail_links_a_contact_whose_work_e_mail_differs() -> None:
    crm = [person("1", "C", "anna@gmail.com", "anna@bakker.nl;a.b@home.nl")]
    afas = [person("A", "C", "anna@bakker.nl")]
    assert partner_of(decide(crm, afas), AFAS, "A") == "1"


def test_a_work_e_mail_and_an_additional_one_of_two_contacts_link_neither() -> None:
    # HubSpot keeps e-mails unique across both, so this is two HubSpot contacts of one
    # person, or a mistake: a person decides, and nothing is created meanwhile.
    crm = [
        person("1", "C", "anna@bakker.nl"),
        person("2", "C", "anna.private@gmail.com", "anna@bakker.nl"),
    ]
    afas = [person("A", "C", "anna@bakker.nl")]
    assert held_for_a_person(decide(crm, afas)) == {"1", "2"}


def test_an_additional_e_mail_never_links_across_companies() -> None:
    crm = [person("1", "C", "anna@gmail.com", "anna@bakker.nl")]
    afas = [person("A", "D", "anna@bakker.nl")]
    decisions = decide(crm, afas)
    assert decisions[(AFAS, "A")].kind is MatchKind.CREATE
    assert decisions[(CRM, "1")].kind is MatchKind.CREATE


def test_two_contacts_holding_the_e_mail_as_an_additional_one_link_neither() -> None:
    crm = [
        person("1", "C", "anna@gmail.com", "info@bakker.nl"),
        person("2", "C", "piet@gmail.com", "info@bakker.nl"),
    ]
    afas = [person("A", "C", "info@bakker.nl")]
    assert held_for_a_person(decide(crm, afas)) == {"1", "2"}


def test_one_contact_sharing_two_values_with_a_record_is_one_candidate() -> None:
    crm = [person("1", "C", "anna@gmail.com", "anna@bakker.nl;anna@bakker.com")]
    afas = [
        Record("A", {"company": "C", "email": "anna@bakker.com", "email+others": "anna@bakker.nl"})
    ]
    assert partner_of(decide(crm, afas), CRM, "1") == "A"
