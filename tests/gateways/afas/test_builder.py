"""config.toml -> the AFAS gateway."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from syncd.config import load_settings
from syncd.connections import BUILDERS
from syncd.errors import ConfigError
from syncd.gateways.afas.client import base_url, token_header
from syncd.gateways.afas.gateway import AfasGateway, build_afas_gateway
from syncd.gateways.afas.options import AfasOptions
from syncd.gateways.options import GatewaySettings, Secret
from syncd.mapping import KNOWN_ENTITIES, load_mappings
from syncd.records import Side
from syncd.sim.afas.schema import Environment, GetConnector
from tests.gateways.afas.helpers import TOKEN, gateway, served, simulator
from tests.gateways.contract.gateway_contract import SHIPPED_MAPPINGS


def settings(**options: Any) -> GatewaySettings:
    """AFAS settings of these options, as the config would give them once validated."""
    return GatewaySettings("afas", AfasOptions.model_construct(kind="afas", **options))


def test_hosts_per_environment_type() -> None:
    assert base_url(12345) == "https://12345.rest.afas.online/ProfitRestServices"
    assert base_url(12345, "test") == "https://12345.resttest.afas.online/ProfitRestServices"
    assert base_url(12345, "accept") == "https://12345.restaccept.afas.online/ProfitRestServices"
    with pytest.raises(ValueError, match="production"):
        base_url(12345, "staging")


def test_the_token_header_encodes_the_whole_xml_token() -> None:
    xml = "<token><version>1</version><data>ABC</data></token>"
    assert token_header("ABC") == token_header(xml)
    assert (
        token_header(xml)
        == "AfasToken PHRva2VuPjx2ZXJzaW9uPjE8L3ZlcnNpb24+PGRhdGE+QUJDPC9kYXRhPjwvdG9rZW4+"
    )


def test_the_builder_is_registered_and_builds_from_options() -> None:
    mappings = load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)
    assert BUILDERS["afas"] is build_afas_gateway
    gw = build_afas_gateway(
        settings(
            environment=12345,
            environment_type="test",
            token=Secret("AFAS_TOKEN", "x"),
            concurrency=3,
            rate=4.0,
            page_size=250,
        ),
        Side.AFAS,
        mappings,
    )
    assert isinstance(gw, AfasGateway)
    assert str(gw.client.url) == "https://12345.resttest.afas.online/ProfitRestServices"
    assert (gw.client.limits.concurrency, gw.client.limits.rate, gw.page_size) == (3, 4.0, 250)


@pytest.mark.parametrize(
    ("options", "where"),
    [
        ({"token": Secret("T", "x")}, "afas.environment"),
        ({"environment": 1, "concurrency": 9, "token": Secret("T", "x")}, "afas.concurrency"),
        ({"environment": 1}, "afas.token"),
        ({"base_url": "http://x", "oauth_client_id": "id"}, "afas.oauth_client_secret"),
    ],
)
def test_bad_options_are_config_errors(options: dict[str, object], where: str) -> None:
    mappings = load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)
    with pytest.raises(ConfigError) as caught:
        build_afas_gateway(settings(**options), Side.AFAS, mappings)
    assert where in {p.key for p in caught.value.problems}


def test_config_toml_accepts_an_afas_side(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[sync]\nmappings = "{SHIPPED_MAPPINGS}"\n'
        '[connections.main]\ncrm = { kind = "memory" }\n'
        'afas = { kind = "afas", environment = 12345, token = "AFAS_TOKEN", concurrency = 5 }\n',
        encoding="utf-8",
    )
    loaded = load_settings(config, env={"AFAS_TOKEN": "secret-data"})
    options = loaded.connections[0].afas.options_as(AfasOptions)
    assert options.token == Secret("AFAS_TOKEN", "secret-data")
    assert "secret-data" not in repr(options.token)
    with pytest.raises(ConfigError, match="AFAS_TOKEN"):
        load_settings(config, env={})


def old_config(tmp_path: Path, afas_options: str) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[sync]\nmappings = "{SHIPPED_MAPPINGS}"\n'
        '[connections.main]\ncrm = { kind = "memory" }\n'
        f'afas = {{ kind = "afas", base_url = "http://x", token = "T", {afas_options} }}\n',
        encoding="utf-8",
    )
    return config


async def test_match_oga_of_an_old_config_still_starts_and_no_company_is_matched_by_kvk(
    tmp_path: Path,
) -> None:
    # MatchOga 1 refused a company without KvK number (Belgian, German, foundations)
    # and would put the second role of a company under any organisation with its KvK.
    config = old_config(tmp_path, 'match_oga = "1"')
    with pytest.warns(FutureWarning, match=r"afas\.match_oga.*remove it"):
        loaded = load_settings(config, env={"T": TOKEN})
    mappings = load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)
    sim = simulator()
    async with served(sim) as url:
        options = loaded.connections[0].afas.options.model_copy(update={"base_url": url})
        afas = build_afas_gateway(GatewaySettings("afas", options), Side.AFAS, mappings)
        belgian = {"name": "Brugse Bakkerij", "country": "BE"}
        first = await afas.create("customer", belgian, "1")
        second = await afas.create("customer", {**belgian, "name": "Gentse Molen"}, "2")
        await afas.aclose()
    debtors = sim.data.relations["customer"]
    assert debtors[first.id].organisation != debtors[second.id].organisation


async def test_verify_names_what_the_environment_lacks() -> None:
    mappings = load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)
    sim = simulator()
    async with served(sim) as url:
        afas = gateway(url, mappings)
        assert await afas.verify() == []
        await afas.aclose()
    debtors = sim.environment.get_connectors["syncd_debtors"]
    trimmed = GetConnector(
        debtors.id,
        debtors.description,
        debtors.entity,
        tuple(f for f in debtors.fields if f.id not in ("ExternalKey", "Iban")),
    )
    sim.environment = Environment(get_connectors={"syncd_debtors": trimmed})
    async with served(sim) as url:
        afas = gateway(url, mappings)
        assert await afas.verify() == [
            "customer: GetConnector syncd_debtors lacks ExternalKey, Iban",
            "supplier: the app connector lacks GetConnector syncd_creditors",
            "contact: the app connector lacks GetConnector syncd_contacts",
        ]
        await afas.aclose()


async def test_verify_names_the_connectors_contacts_are_written_with() -> None:
    mappings = load_mappings(SHIPPED_MAPPINGS, ["contact"])
    sim = simulator()
    contacts = sim.environment.get_connectors["syncd_contacts"]
    without_person = GetConnector(
        contacts.id,
        contacts.description,
        contacts.entity,
        tuple(f for f in contacts.fields if f.id != "PersonId"),
    )
    updates = {k: v for k, v in sim.environment.update_connectors.items() if k != "KnPerson"}
    sim.environment = Environment(
        get_connectors={contacts.id: without_person}, update_connectors=updates
    )
    async with served(sim) as url:
        afas = gateway(url, mappings)
        assert await afas.verify() == [
            "contact: the app connector lacks UpdateConnector KnPerson",
            "contact: GetConnector syncd_contacts lacks PersonId",
        ]
        await afas.aclose()
