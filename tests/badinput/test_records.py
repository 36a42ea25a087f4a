"""One bad record among good ones, in a real answer of either API.

Each case of ``tests/data/bad/records`` gives the native values one record carries on
each side (``afas``, ``crm``), the field the error must name and words of the error
(once, or per side). The record's row in the listing is given those values on the wire; the cycle
must quarantine just that record, naming its id and the field, write nothing of it to
the other side and sync the rest. Once the record is good again (the values fixed at the
source), a later cycle syncs it: nothing was lost.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from syncd.records import Side
from tests.badinput.worlds import WORLDS, mentions_no_secret, words

RECORDS = Path(__file__).resolve().parent.parent / "data" / "bad" / "records"
GOOD = ["Bakkerij De Korenaar B.V.", "Atlas Bouw B.V."]
TARGET = "Doelwit Handel B.V."


def _for_side(value: Any, side: str) -> Any:
    """A case's value for one side: given per side as {"afas": ..., "crm": ...}, or once."""
    return value[side] if isinstance(value, dict) and set(value) == {"afas", "crm"} else value


def cases() -> list[Any]:
    return [
        pytest.param(world, path.stem, json.loads(path.read_text()), id=f"{world}-{path.stem}")
        for path in sorted(RECORDS.glob("*.json"))
        for world in WORLDS
    ]


@pytest.mark.parametrize(("world_name", "name", "case"), cases())
async def test_a_bad_record_is_quarantined_and_the_rest_syncs(
    tmp_path: Path, world_name: str, name: str, case: dict[str, Any]
) -> None:
    async with WORLDS[world_name](tmp_path) as world:
        for good in GOOD:
            world.seed(good)
        target = world.seed(TARGET)
        side = "afas" if world.side is Side.AFAS else "crm"
        values = case[side]
        field, error = _for_side(case["field"], side), _for_side(case["error"], side)
        world.spoil_row(target, values)

        report = await world.cycle()

        assert report.applied
        quarantined = await world.quarantined()
        if error is None:  # harmless: the record syncs as any other
            assert quarantined == []
            assert world.names_across() == sorted([*GOOD, TARGET])
            return
        assert [(q.side, q.record_id, q.field) for q in quarantined] == [
            (world.side, target, field)
        ]
        reason = words(quarantined[0].reason)
        assert error in reason
        assert field in reason
        assert mentions_no_secret(reason)
        assert world.names_across() == sorted(GOOD)  # nothing of the bad record went across
        across = json.dumps(world.memory.rows("customer"), ensure_ascii=True, default=str)
        for value in values.values():
            assert json.dumps(value, ensure_ascii=True) not in across

        world.proxy.rules.clear()  # the record is fixed at its source
        await world.cycle(later=True)
        assert world.names_across() == sorted([*GOOD, TARGET])
        assert await world.quarantined() == []
