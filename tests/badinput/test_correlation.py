"""Records whose correlation key points at the wrong record, on either side.

The correlation key (AFAS external key, the CRM's AFAS-number property) says which
record on the other side a record belongs to. A key that names a record linked to
another one, a record that is not there, or a record whose own key names someone else
must never link, create or overwrite anything: the record is quarantined with both ids
in the reason, and everything else syncs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from syncd.records import Side
from tests.badinput.worlds import WORLDS, World, words


def pair(world: World, here: str, there: str) -> tuple[str, str]:
    """(crm id, afas id) of a record on the side under test and one on the other side."""
    return (here, there) if world.side is Side.CRM else (there, here)


async def reasons(world: World) -> dict[str, str]:
    return {q.record_id: words(q.reason) for q in await world.quarantined()}


@pytest.mark.parametrize("world_name", sorted(WORLDS))
async def test_a_key_naming_a_record_linked_elsewhere_links_nothing(
    tmp_path: Path, world_name: str
) -> None:
    async with WORLDS[world_name](tmp_path) as world:
        first = world.seed("Atlas Bouw B.V.")
        await world.cycle()
        [(crm_id, afas_id)] = await world.links()
        taken = afas_id if world.side is Side.CRM else crm_id
        intruder = world.seed("Bakkerij De Korenaar B.V.", correlation=taken)

        report = await world.cycle()

        assert report.applied
        assert await world.links() == {pair(world, first, taken)}
        assert world.names_across() == ["Atlas Bouw B.V."]  # not renamed, no second record
        reason = (await reasons(world))[intruder]
        assert taken in reason
        assert "linked to another record" in reason
        assert first in reason  # the record the key rightly belongs to


@pytest.mark.parametrize("world_name", sorted(WORLDS))
async def test_a_key_naming_a_record_that_is_not_there_creates_nothing(
    tmp_path: Path, world_name: str
) -> None:
    async with WORLDS[world_name](tmp_path) as world:
        good = world.seed("Atlas Bouw B.V.")
        dangling = world.seed("Bakkerij De Korenaar B.V.", correlation="99999")

        report = await world.cycle()

        assert report.applied
        assert world.names_across() == ["Atlas Bouw B.V."]
        assert [link[0 if world.side is Side.CRM else 1] for link in await world.links()] == [good]
        reason = (await reasons(world))[dangling]
        assert "99999" in reason
        assert "correct or clear the key" in reason


@pytest.mark.parametrize("world_name", sorted(WORLDS))
async def test_keys_that_point_past_each_other_link_only_the_pair_that_agrees(
    tmp_path: Path, world_name: str
) -> None:
    async with WORLDS[world_name](tmp_path) as world:
        owner = world.seed("Atlas Bouw B.V.")
        claimed = world.put_across("Atlas Bouw B.V.", correlation=owner)
        claimant = world.seed("Bakkerij De Korenaar B.V.", correlation=claimed)

        report = await world.cycle()

        assert report.applied
        assert await world.links() == {pair(world, owner, claimed)}
        assert world.names_across() == ["Atlas Bouw B.V."]
        reason = (await reasons(world))[claimant]
        assert claimed in reason
        assert owner in reason
