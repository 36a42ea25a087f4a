"""Fixture files: two systems in one JSON file, loaded as memory gateways and saved back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from syncd.errors import ConfigError
from syncd.gateways.fixture import load_fixture, save_fixture
from syncd.mapping import COMPANY_ENTITIES, KNOWN_ENTITIES, EntityMapping, load_mappings
from syncd.records import Side
from tests.gateways.contract import collect
from tests.gateways.contract.gateway_contract import SHIPPED_FIXTURE, SHIPPED_MAPPINGS
from tests.gateways.test_memory import CUSTOMER, records

CRM, AFAS = Side.CRM, Side.AFAS


@pytest.fixture(scope="module")
def mappings() -> dict[str, EntityMapping]:
    return load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)


async def test_the_shipped_fixture_loads(mappings: dict[str, EntityMapping]) -> None:
    crm, afas = load_fixture(SHIPPED_FIXTURE, mappings)
    counts = {
        (g.side, e): len(await records(g.list_all(e))) for g in (crm, afas) for e in KNOWN_ENTITIES
    }
    assert counts == {
        (CRM, "customer"): 5,
        (CRM, "supplier"): 3,
        (AFAS, "customer"): 5,
        (AFAS, "supplier"): 4,
        (CRM, "contact"): 5,
        (AFAS, "contact"): 5,
    }
    assert len(afas.rows("customer")) == 6  # one blocked debtor: stored, not listed
    for g in (crm, afas):
        for e in KNOWN_ENTITIES:
            _, _, rejected = await collect(g.list_all(e))
            assert rejected == []


async def test_shipped_companies_on_both_sides_match_on_kvk(
    mappings: dict[str, EntityMapping],
) -> None:
    crm, afas = load_fixture(SHIPPED_FIXTURE, mappings)
    for entity in COMPANY_ENTITIES:
        crm_by_kvk = {r.fields["kvk"]: r for r in await records(crm.list_all(entity))}
        afas_by_kvk = {r.fields["kvk"]: r for r in await records(afas.list_all(entity))}
        shared = set(crm_by_kvk) & set(afas_by_kvk) - {None}
        assert len(shared) >= 2
        assert set(crm_by_kvk) - set(afas_by_kvk), "some only in the CRM"
        assert set(afas_by_kvk) - set(crm_by_kvk), "some only in AFAS"
    customers = {
        r.fields["kvk"]: r.fields
        for g in (crm, afas)
        for r in await records(g.list_all("customer"))
    }
    crm_linden = (await crm.find_by_values("customer", "kvk", ["17283946"]))[0]
    assert customers["17283946"]["email"] != crm_linden.fields["email"]


async def test_shipped_contacts_on_both_sides_share_e_mails_and_some_are_on_one_side(
    mappings: dict[str, EntityMapping],
) -> None:
    crm, afas = load_fixture(SHIPPED_FIXTURE, mappings)
    crm_mails = {r.fields["email"] for r in await records(crm.list_all("contact"))}
    afas_mails = {r.fields["email"] for r in await records(afas.list_all("contact"))}
    assert len(crm_mails & afas_mails) >= 2
    assert crm_mails - afas_mails, "some only in the CRM"
    assert afas_mails - crm_mails, "some only in AFAS"


def test_save_then_load_gives_the_same_systems(
    mappings: dict[str, EntityMapping], tmp_path: Path
) -> None:
    crm, afas = load_fixture(SHIPPED_FIXTURE, mappings)
    path = tmp_path / "systems.json"
    shutil.copy(SHIPPED_FIXTURE, path)
    save_fixture(path, crm, afas)
    again_crm, again_afas = load_fixture(path, mappings)
    for before, after in ((crm, again_crm), (afas, again_afas)):
        for entity in KNOWN_ENTITIES:
            assert after.rows(entity) == before.rows(entity)
    text = path.read_text(encoding="utf-8")
    save_fixture(path, again_crm, again_afas)
    assert path.read_text(encoding="utf-8") == text
    assert '"2025-02-11T13:05:00Z"' in text  # times are written in UTC
    assert json.loads(text)["comment"] == json.loads(SHIPPED_FIXTURE.read_text())["comment"]
    assert files_in(tmp_path) == ["systems.json"]


def test_an_entity_not_synced_is_left_alone_and_saved_as_it_was(
    mappings: dict[str, EntityMapping], tmp_path: Path
) -> None:
    companies_only = {e: mappings[e] for e in COMPANY_ENTITIES}
    path = tmp_path / "systems.json"
    shutil.copy(SHIPPED_FIXTURE, path)
    crm, afas = load_fixture(path, companies_only)
    assert crm.entities == afas.entities == COMPANY_ENTITIES
    save_fixture(path, crm, afas)
    shipped = json.loads(SHIPPED_FIXTURE.read_text(encoding="utf-8"))
    saved = json.loads(path.read_text(encoding="utf-8"))
    for side in ("crm", "afas"):
        assert saved[side]["contact"] == shipped[side]["contact"]


async def test_writes_survive_a_save_and_numbering_goes_on(
    mappings: dict[str, EntityMapping], tmp_path: Path
) -> None:
    path = tmp_path / "systems.json"
    crm, afas = load_fixture(SHIPPED_FIXTURE, mappings)
    created = await afas.create("customer", CUSTOMER, "9000000103")
    await crm.deactivate("customer", "9000000104")
    save_fixture(path, crm, afas)

    crm, afas = load_fixture(path, mappings)
    found = await afas.find_by_correlation("customer", ["9000000103"])
    assert found["9000000103"].id == created.id == "10007"
    assert not crm.is_active("customer", "9000000104")
    later = await afas.create("customer", CUSTOMER, "x")
    assert later.id == "10008"
    assert later.modified is not None
    assert created.modified is not None
    assert later.modified > created.modified


def test_a_failed_save_leaves_the_old_file(
    mappings: dict[str, EntityMapping], tmp_path: Path
) -> None:
    path = tmp_path / "systems.json"
    crm, afas = load_fixture(SHIPPED_FIXTURE, mappings)
    save_fixture(path, crm, afas)
    before = path.read_bytes()
    crm.put("customer", {"name": {"not JSON"}})
    with pytest.raises(TypeError, match="JSON cannot store"):
        save_fixture(path, crm, afas)
    assert path.read_bytes() == before
    assert files_in(tmp_path) == ["systems.json"]


def test_a_save_keeps_the_file_mode(mappings: dict[str, EntityMapping], tmp_path: Path) -> None:
    path = tmp_path / "systems.json"
    crm, afas = load_fixture(SHIPPED_FIXTURE, mappings)
    save_fixture(path, crm, afas)
    assert path.stat().st_mode & 0o777 == 0o644
    path.chmod(0o664)
    save_fixture(path, crm, afas)
    assert path.stat().st_mode & 0o777 == 0o664


def test_a_save_cut_off_while_writing_leaves_the_old_file(
    mappings: dict[str, EntityMapping], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "systems.json"
    crm, afas = load_fixture(SHIPPED_FIXTURE, mappings)
    save_fixture(path, crm, afas)
    before = path.read_bytes()
    crm.put("customer", {"name": "Nieuw"})

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("syncd.gateways.fixture.os.fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        save_fixture(path, crm, afas)
    assert path.read_bytes() == before
    assert files_in(tmp_path) == ["systems.json"]


def test_save_wants_crm_then_afas(mappings: dict[str, EntityMapping], tmp_path: Path) -> None:
    crm, afas = load_fixture(SHIPPED_FIXTURE, mappings)
    with pytest.raises(ValueError, match="CRM gateway first"):
        save_fixture(tmp_path / "f.json", afas, crm)


async def test_unmappable_fixture_rows_load_and_are_rejected(
    mappings: dict[str, EntityMapping], tmp_path: Path
) -> None:
    path = tmp_path / "f.json"
    rows = [
        {"hs_object_id": "1", "hs_lastmodifieddate": "2025-01-01T00:00:00Z", "kvk_number": "12"},
        {"hs_object_id": "2", "hs_lastmodifieddate": "2025-01-02T00:00:00Z", "name": "Goed"},
    ]
    path.write_text(json.dumps({"crm": {"customer": rows}}), encoding="utf-8")
    crm, afas = load_fixture(path, mappings)
    _, found, rejected = await collect(crm.changed_since("customer", None))
    assert [r.id for r in found] == ["2"]
    assert rejected == ["1"]
    assert afas.rows("customer") == []


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def row(**extra: object) -> dict[str, object]:
    return {"DebtorId": "10001", "ModifiedDate": "2025-01-01T10:00:00+01:00", **extra}


@pytest.mark.parametrize(
    ("document", "key", "message"),
    [
        ([], "$", "must be an object"),
        ({"crm": {}, "erp": {}}, "$.erp", "unknown key"),
        ({"comment": ["a", "b"]}, "$.comment", "must be a string"),
        ({"afas": []}, "$.afas", "must be an object of entity -> rows"),
        ({"afas": {"project": []}}, "$.afas.project", "unknown entity"),
        ({"afas": {"customer": {}}}, "$.afas.customer", "must be a list of rows"),
        ({"afas": {"customer": ["10001"]}}, "$.afas.customer[0]", "must be an object"),
        ({"afas": {"customer": [{"ModifiedDate": "2025-01-01T10:00:00Z"}]}},
         "$.afas.customer[0].DebtorId", "non-empty string"),
        ({"afas": {"customer": [row(DebtorId=10001)]}},
         "$.afas.customer[0].DebtorId", "non-empty string"),
        ({"afas": {"customer": [row(), row()]}}, "$.afas.customer[1].DebtorId", "duplicate id"),
        ({"afas": {"customer": [row(ModifiedDate=None)]}},
         "$.afas.customer[0].ModifiedDate", "ISO 8601 string"),
        ({"afas": {"customer": [row(ModifiedDate="yesterday")]}},
         "$.afas.customer[0].ModifiedDate", "is not an ISO 8601"),
        ({"afas": {"customer": [row(ModifiedDate="2025-01-01T10:00:00")]}},
         "$.afas.customer[0].ModifiedDate", "needs a UTC offset"),
        ({"afas": {"customer": [row(Blocked="ja")]}},
         "$.afas.customer[0].Blocked", "true or false"),
        ({"afas": {"customer": [row(City=["Gent"])]}}, "$.afas.customer[0].City", "scalar"),
        ({"crm": {"customer": [{"hs_object_id": "1", "hs_lastmodifieddate": 5, "a b": {}}]}},
         '$.crm.customer[0]["a b"]', "scalar"),
    ],
)  # fmt: skip
def test_a_malformed_fixture_names_file_path_and_problem(
    mappings: dict[str, EntityMapping],
    tmp_path: Path,
    document: object,
    key: str,
    message: str,
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_fixture(path, mappings)
    problems = [(p.source, p.key) for p in caught.value.problems if message in p.message]
    assert problems == [(str(path), key)], caught.value.problems


def test_every_problem_is_reported_at_once(
    mappings: dict[str, EntityMapping], tmp_path: Path
) -> None:
    path = tmp_path / "bad.json"
    bad = {"afas": {"customer": [row(ModifiedDate="x"), row(DebtorId="")], "supplier": 1}}
    path.write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_fixture(path, mappings)
    assert [p.key for p in caught.value.problems] == [
        "$.afas.customer[0].ModifiedDate",
        "$.afas.customer[1].DebtorId",
        "$.afas.supplier",
    ]
    assert str(path) in str(caught.value)


def test_invalid_json_and_a_missing_file(
    mappings: dict[str, EntityMapping], tmp_path: Path
) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"crm": {"customer": [}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.json: \$: not valid JSON: .*line 1, column 23"):
        load_fixture(path, mappings)
    with pytest.raises(ConfigError, match="cannot read the fixture"):
        load_fixture(tmp_path / "missing.json", mappings)
