"""An independent model of the sync rules, for the engine's state machines.

What a linked pair's fields must hold after a fault-free sync, from the values users
left on both sides and the base the model keeps: no edit lost except by the configured
conflict rule, every non-conflicting edit propagated, a first link settled by each
field's first_link rule, and a delete turned into a block of the other side (unless that
side was edited since) or ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from syncd.policy import ConflictRule, DeletePolicy, FirstLink, SyncRules
from syncd.records import Side, Value

MISSING = object()  # a field of a base: no value agreed yet (a first link)


@dataclass
class ModelRecord:
    """The model's view of one record: its row on each side and what they hold."""

    ids: dict[Side, str | None]
    values: dict[Side, dict[str, Value]]
    base: dict[str, Any] | None = None  # None until linked; MISSING per field = no base
    tombstone: bool = False
    deleted: set[Side] = field(default_factory=set)  # removed by a user
    blocked: set[Side] = field(default_factory=set)  # deactivated by the engine

    def present(self, side: Side) -> bool:
        return self.ids[side] is not None and not {side} & (self.deleted | self.blocked)

    def stored(self, side: Side) -> bool:
        """A row exists on ``side`` (a blocked one too)."""
        return self.ids[side] is not None and side not in self.deleted


# The value a field holds on the CRM side now: the model cannot know which side's record
# is newer, so a newest_wins settlement is checked to be one of the two users' values.
ActualCrm = Callable[[ModelRecord, str], Value]


class RulesModel:
    """Advances a :class:`ModelRecord` through one sync phase as the rules say."""

    def __init__(
        self, rules: SyncRules, first_link: Mapping[str, FirstLink], fields: Sequence[str]
    ) -> None:
        self.rules = rules
        self.first_link = dict(first_link)
        self.fields = tuple(fields)

    def expect(self, record: ModelRecord, actual_crm: ActualCrm) -> None:
        """What ``record`` must look like after the sync phase."""
        if record.tombstone:
            return
        if record.base is None:
            self._expect_new(record, actual_crm)
        elif record.deleted:
            self._expect_deleted(record)
        else:
            for name in self.fields:
                self._expect_field(record, name, actual_crm)

    def _expect_new(self, record: ModelRecord, actual_crm: ActualCrm) -> None:
        if all(record.ids[side] is not None for side in Side):
            record.base = dict.fromkeys(self.fields, MISSING)
            for name in self.fields:
                self._expect_field(record, name, actual_crm)
            return
        source = Side.CRM if record.ids[Side.CRM] else Side.AFAS
        record.values[source.other] = dict(record.values[source])
        record.base = dict(record.values[source])

    def _expect_deleted(self, record: ModelRecord) -> None:
        record.tombstone = True
        survivors = [side for side in Side if side not in record.deleted]
        if not survivors or self.rules.deletes is DeletePolicy.IGNORE:
            return
        survivor = survivors[0]
        assert record.base is not None
        edited = any(
            record.base.get(name, MISSING) is not MISSING
            and record.values[survivor].get(name) != record.base[name]
            for name in self.fields
        )
        if not edited:
            record.blocked.add(survivor)

    def _expect_field(self, record: ModelRecord, name: str, actual_crm: ActualCrm) -> None:
        assert record.base is not None
        base = record.base.get(name, MISSING)
        crm, afas = record.values[Side.CRM].get(name), record.values[Side.AFAS].get(name)
        crm_changed = base is MISSING or crm != base
        afas_changed = base is MISSING or afas != base
        keep_blank = not self.rules.blank_overwrites
        if not crm_changed and not afas_changed:
            return
        if crm == afas:
            record.base[name] = crm
            return
        if base is MISSING:
            self._expect_first_link(record, name, crm, afas, actual_crm)
            return
        if crm_changed != afas_changed:
            source = Side.CRM if crm_changed else Side.AFAS
            value, other = record.values[source].get(name), record.values[source.other].get(name)
            if value is None and other is not None and keep_blank:
                return  # held: a blank never overwrites a value
            _settle(record, name, value)
            return
        if (crm is None) != (afas is None) and keep_blank:
            _settle(record, name, crm if afas is None else afas)
        elif self.rules.conflict is ConflictRule.MANUAL:
            return  # a conflict for a person; both sides keep their values
        elif self.rules.conflict is ConflictRule.CRM_WINS:
            _settle(record, name, crm)
        elif self.rules.conflict is ConflictRule.AFAS_WINS:
            _settle(record, name, afas)
        else:
            _settle_newest(record, name, crm, afas, actual_crm)

    def _expect_first_link(
        self, record: ModelRecord, name: str, crm: Value, afas: Value, actual_crm: ActualCrm
    ) -> None:
        """No base: the pair (or this field of it) is linked for the first time."""
        rule = self.first_link[name]
        if (crm is None) != (afas is None):
            _settle(record, name, crm if afas is None else afas)  # never a blank
        elif rule is FirstLink.MANUAL:
            return  # a conflict for a person; both sides keep their values
        elif rule is FirstLink.CRM:
            _settle(record, name, crm)
        elif rule is FirstLink.AFAS:
            _settle(record, name, afas)
        else:
            _settle_newest(record, name, crm, afas, actual_crm)


def _settle_newest(
    record: ModelRecord, name: str, crm: Value, afas: Value, actual_crm: ActualCrm
) -> None:
    # newest depends on record times the model does not keep: the sides must agree on
    # one of the two users' values (checked against both sides later).
    actual = actual_crm(record, name)
    assert actual in (crm, afas), f"{name}: {actual!r} is neither user's value"
    _settle(record, name, actual)


def _settle(record: ModelRecord, name: str, value: Value) -> None:
    assert record.base is not None
    record.base[name] = value
    for side in Side:
        record.values[side][name] = value


def fill_created_id(ids: dict[Side, str | None], links: set[tuple[str, str]]) -> None:
    """Learn the id the engine gave a record (its ``ids``) it created on the other side,
    from the active links ``(crm id, afas id)``."""
    for side in Side:
        mine = ids[side.other]
        if ids[side] is None and mine is not None:
            index = 1 if side is Side.AFAS else 0
            partners = [pair[index] for pair in links if pair[1 - index] == mine]
            assert len(partners) == 1, f"{side.other} {mine} linked {len(partners)} times"
            ids[side] = partners[0]
