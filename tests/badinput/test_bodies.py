"""Whole answers that are not what the API sends, served on the wire to real cycles.

Each case of ``tests/data/bad/bodies`` is served in place of the entity's listing (every
attempt, retries included). The cycle must fail with a GatewayError that names the
system, the request and what arrived (never a decoder's traceback, never a secret);
nothing is written and no cursor moves; the next cycles go on, and once the answers are
good again every record is synced: nothing was lost.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from syncd.errors import GatewayError, PermanentError, TransientError
from syncd.events import EventName
from tests.badinput.tamper import Spoil
from tests.badinput.worlds import WORLDS, mentions_no_secret, words

BODIES = Path(__file__).resolve().parent.parent / "data" / "bad" / "bodies"


@dataclass(frozen=True)
class Case:
    world: str
    file: str
    status: int
    error: type[GatewayError]
    says: tuple[str, ...]  # all of these, in the error message
    content_type: str = "application/json; charset=utf-8"

    @property
    def id(self) -> str:
        return f"{self.world}-{self.status}-{self.file.split('.')[0]}"


def cases() -> list[Case]:
    doc = tomllib.loads((BODIES / "cases.toml").read_text(encoding="utf-8"))
    errors = {"TransientError": TransientError, "PermanentError": PermanentError}
    return [
        Case(
            c["world"],
            c["file"],
            c["status"],
            errors[c["error"]],
            tuple(c["says"]),
            c.get("content_type", Case.content_type),
        )
        for c in doc["case"]
    ]


NAMES = ["Bakkerij De Korenaar B.V.", "Café Müller", "Atlas Bouw B.V."]


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.id)
async def test_a_spoiled_answer_fails_the_cycle_and_loses_nothing(
    tmp_path: Path, case: Case
) -> None:
    async with WORLDS[case.world](tmp_path) as world:
        for name in NAMES:
            world.seed(name)
        body = (BODIES / case.file).read_bytes()
        world.spoil_list(body=body, status=case.status, content_type=case.content_type)

        failed = await world.keep_running(2)

        for error in failed:
            assert isinstance(error, case.error), repr(error)
            message = words(str(error))
            for said in case.says:
                assert said in message, message
            assert mentions_no_secret(message)
        assert world.names_across() == []
        assert set((await world.cursors()).values()) == {None}
        events = await world.store.events("test", names=[str(EventName.CYCLE_FAILED)])
        assert len(events) == 2
        assert case.says[0] in str(events[0].data["error"])

        world.proxy.rules.clear()
        report = await world.cycle()
        assert report.applied
        assert report.counts["quarantined"] == 0, report.counts
        assert world.names_across() == sorted(NAMES)
        assert (await world.cursors())[world.side] is not None  # the listing was read


WRITES = {
    "afas": ("POST", r"/ProfitRestServices/connectors/KnSalesRelationOrg", 500),
    "hubspot": ("POST", r"/crm/v3/objects/companies(/batch/create)?", 200),
}


@pytest.mark.parametrize("world_name", sorted(WRITES))
async def test_an_html_page_in_answer_to_a_create_is_an_unknown_outcome_not_a_refusal(
    tmp_path: Path, world_name: str
) -> None:
    method, path, status = WRITES[world_name]
    async with WORLDS[world_name](tmp_path) as world:
        world.put_across("Atlas Bouw B.V.")
        page = (BODIES / "maintenance_page.html").read_bytes()
        world.proxy.spoil(Spoil(method, path, body=page, status=status, content_type="text/html"))

        first = await world.cycle()

        assert first.counts["outcome_unknown"] == 1, first.counts
        assert await world.quarantined() == []  # not taken for the side refusing the record
        for _ in range(3):
            await world.cycle(later=True)
        listed = [r async for page_ in world.gateway.list_all("customer") for r in page_.records]
        assert [r.fields["name"] for r in listed] == ["Atlas Bouw B.V."]  # created once
