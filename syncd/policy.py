"""The rules an operator sets: directions, conflict rules, deletes and guards."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from syncd.records import Side


class Direction(StrEnum):
    BOTH = "both"
    TO_AFAS = "to_afas"
    TO_CRM = "to_crm"
    ON_CREATE = "on_create"

    def source(self) -> Side | None:
        """The side that owns a one-way field, or None for two-way and on-create."""
        return {Direction.TO_AFAS: Side.CRM, Direction.TO_CRM: Side.AFAS}.get(self)


class ConflictRule(StrEnum):
    CRM_WINS = "crm_wins"
    AFAS_WINS = "afas_wins"
    NEWEST_WINS = "newest_wins"
    MANUAL = "manual"


class FirstLink(StrEnum):
    """Which side's value a field takes when a pair is first linked and the two differ.

    Unlike a conflict, neither side changed anything yet: the values drifted apart before
    syncd knew the pair, so no base says which is newer. A blank never wins: at a first
    link it means "never entered", not "cleared".
    """

    AFAS = "afas"
    CRM = "crm"
    NEWEST = "newest"  # the record modified last (ties: [sync] newest_tie)
    MANUAL = "manual"  # leave both, record a conflict for a person

    @classmethod
    def following(cls, rule: ConflictRule) -> FirstLink:
        """A field without a first-link rule of its own is first linked as its conflicts
        are settled."""
        chosen = {
            ConflictRule.AFAS_WINS: cls.AFAS,
            ConflictRule.CRM_WINS: cls.CRM,
            ConflictRule.NEWEST_WINS: cls.NEWEST,
        }
        return chosen.get(rule, cls.MANUAL)


class DeletePolicy(StrEnum):
    IGNORE = "ignore"  # unlink and log; the other side keeps its record
    BLOCK = "block"  # AFAS: block the relation; CRM: archive the company


@dataclass(frozen=True)
class Guards:
    """Thresholds above which a plan is refused before anything is written."""

    max_delete_share: float = 0.1
    max_blank_share: float = 0.1
    min_records_for_share: int = 10  # below this many links, shares are too noisy to judge
    refuse_empty_side: bool = True


@dataclass(frozen=True)
class SyncRules:
    """Connection-wide defaults; a field in a mapping may override conflict and blanks."""

    conflict: ConflictRule = ConflictRule.MANUAL
    newest_tie: Side = Side.AFAS
    blank_overwrites: bool = False
    deletes: DeletePolicy = DeletePolicy.IGNORE
    create_in_crm: bool = True
    create_in_afas: bool = True
    # On a first run, create nothing until an operator has reviewed the match plan
    # (syncd match --plan, then --apply): a duplicate is worse than a delay.
    review_first: bool = False
    # When records are linked by a match, write each one's id into the other's
    # correlation key (AFAS XpRe, the CRM's AFAS-number property), as creates do.
    write_correlation_keys: bool = False
    guards: Guards = Guards()
