"""``syncd demo``: both simulators on loopback, seeded with Dutch companies and their
contact persons (:mod:`syncd.sim.demo_people`), and the daemon.

The default ``config.toml`` points its ``demo`` connection at the simulators' addresses,
so the demo is ``syncd run`` with the two systems started next to it. The newcomer
watches records sync in the status log, and can edit through the simulators' control
APIs (printed at start) to see changes flow.
"""

from __future__ import annotations

import dataclasses
import os
import random
import sys
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web
from rich.console import Console

from syncd.config import ConnectionSettings, Settings, load_settings
from syncd.daemon import Daemon
from syncd.errors import ConfigError, Problem
from syncd.gateways.afas.options import AfasOptions
from syncd.gateways.hubspot.options import HubSpotOptions
from syncd.mapping import EntityMapping
from syncd.records import Side, Value
from syncd.sim.afas import AfasSimulator
from syncd.sim.companies import companies
from syncd.sim.demo_people import SeededCompany, seed_people
from syncd.sim.hubspot import REALISTIC, HubSpotSimulator
from syncd.state.store import open_store

DEMO_TOKENS = {"SYNCD_DEMO_AFAS_TOKEN": "demo", "SYNCD_DEMO_HUBSPOT_TOKEN": "demo"}
DEMO_INTERVAL = timedelta(seconds=10)
Fields = dict[str, Value]


@dataclasses.dataclass(frozen=True)
class Placement:
    """Where one generated company lives: on which sides, in which roles."""

    crm: tuple[str, ...]  # roles in HubSpot: customer, supplier
    afas: tuple[str, ...]  # entities in AFAS
    conflicting: bool = False  # the sides disagree on its phone number


_PLACEMENTS = (
    Placement(("customer",), ("customer",)),
    Placement(("customer",), ("customer",)),
    Placement(("customer",), ("customer",)),
    Placement(("customer",), ("customer",), conflicting=True),
    Placement(("customer",), ()),
    Placement((), ("customer",)),
    Placement(("supplier",), ("supplier",)),
    Placement((), ("supplier",)),
    Placement(("supplier",), ()),
    Placement(("customer", "supplier"), ("customer", "supplier")),
)


def placed(count: int, seed: int = 2026) -> Iterator[tuple[Fields, Placement]]:
    """``count`` companies, spread over the sides and roles as a real first run finds them."""
    rng = random.Random(seed)
    for company in companies(count, seed=seed):
        yield company.fields, rng.choice(_PLACEMENTS)


def seed_simulators(
    afas: AfasSimulator,
    hubspot: HubSpotSimulator,
    mappings: Mapping[str, EntityMapping],
    count: int,
    *,
    seed: int = 2026,
) -> list[SeededCompany]:
    """Seed ``count`` companies, spread as :func:`placed` says; where each one went."""
    seeded = []
    for fields, where in placed(count, seed):
        rows = {entity: mappings[entity].to_native(Side.AFAS, fields) for entity in where.afas}
        organisation = None
        if rows:
            numbers = afas.seed({entity: [row] for entity, row in rows.items()})
            first = where.afas[0]
            organisation = afas.data.relation(first, numbers[first][0]).organisation
        crm_id = None
        if where.crm:
            crm_fields = {**fields, "phone": "+31600000000"} if where.conflicting else fields
            crm_id = hubspot.seed(_company(mappings, crm_fields, where.crm))
        seeded.append(SeededCompany(fields, crm_id, organisation))
    return seeded


def _company(
    mappings: Mapping[str, EntityMapping], fields: Fields, roles: tuple[str, ...]
) -> dict[str, str | None]:
    properties: dict[str, str | None] = {}
    for role in roles:
        mapping = mappings[role]
        native = mapping.to_native(Side.CRM, {k: v for k, v in fields.items() if _has(mapping, k)})
        properties.update({k: None if v is None else str(v) for k, v in native.items()})
    value: str | None = None
    for company_role in (mappings[r].crm.role for r in roles):
        if company_role is not None:
            value = properties[company_role.property_name] = company_role.value_with_role(value)
    return properties


def _has(mapping: EntityMapping, name: str) -> bool:
    return any(f.name == name for f in mapping.fields)


def _port(url: str | None, where: str, settings: Settings) -> int:
    parts = urlsplit(str(url))
    if parts.hostname not in ("127.0.0.1", "localhost") or parts.port is None:
        raise ConfigError(
            [
                Problem(
                    str(settings.source),
                    where,
                    "the demo runs the simulators on "
                    f"loopback; expected http://127.0.0.1:PORT..., got {url!r}",
                )
            ]
        )
    return parts.port


def _demo_connection(settings: Settings) -> ConnectionSettings:
    for connection in settings.connections:
        if connection.afas.kind == "afas" and connection.crm.kind == "hubspot":
            return connection
    raise ConfigError(
        [
            Problem(
                str(settings.source),
                "connections",
                "the demo needs a connection with "
                'afas = { kind = "afas", ... } and crm = { kind = "hubspot", ... }',
            )
        ]
    )


async def run_demo(config: Path, *, count: int = 300, console: Console | None = None) -> int:
    for variable, value in DEMO_TOKENS.items():
        os.environ.setdefault(variable, value)
    settings = load_settings(config)
    connection = _demo_connection(settings)
    afas_url = connection.afas.options_as(AfasOptions).base_url
    crm_url = connection.crm.options_as(HubSpotOptions).base_url
    afas_port = _port(afas_url, "afas.base_url", settings)
    crm_port = _port(crm_url, "crm.base_url", settings)
    settings = dataclasses.replace(
        settings,
        connections=(connection,),
        daemon=dataclasses.replace(settings.daemon, interval=DEMO_INTERVAL),
    )
    afas, hubspot = AfasSimulator(), HubSpotSimulator(config=dataclasses.replace(REALISTIC))
    seeded = seed_simulators(afas, hubspot, settings.mappings, count)
    seed_people(afas, hubspot, seeded)
    runner = web.AppRunner(afas.app(), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", afas_port).start()
        await hubspot.start(port=crm_port)
    except OSError as error:
        await runner.cleanup()
        raise ConfigError(
            [
                Problem(
                    str(settings.source),
                    f"connections.{connection.name}",
                    f"cannot listen on port {afas_port} or {crm_port} ({error.strerror}): "
                    "is another demo or simulator running? Stop it, or change the "
                    "base_url ports",
                )
            ]
        ) from None
    store = await open_store(settings.state_url)
    try:
        await store.forget(connection.name)  # the simulators start afresh: so does its state
    finally:
        await store.close()
    # On stderr: stdout is the status events', JSON lines when it is not a terminal.
    print(_banner(afas_port, crm_port, count, settings), file=sys.stderr, flush=True)
    try:
        # The demo's settings point at its own simulators: a reload keeps them.
        return await Daemon(settings, console=console, reread=lambda: settings).run()
    finally:
        await hubspot.close()
        await runner.cleanup()


def _banner(afas_port: int, crm_port: int, count: int, settings: Settings) -> str:
    status = f"http://{settings.status.host}:{settings.status.port}/"
    return f"""\
syncd demo: {count} Dutch companies and their contact persons in two simulated
systems, syncing every {DEMO_INTERVAL.seconds} s. Ctrl-C stops it.

  AFAS Profit simulator  http://127.0.0.1:{afas_port}/ProfitRestServices   (control: /_sim)
  HubSpot simulator      http://127.0.0.1:{crm_port}                       (control: /_sim)
  status page            {status}

Edit a company in HubSpot as a user would, and watch it reach AFAS:
  curl -s -H 'Authorization: Bearer demo' \\
       'http://127.0.0.1:{crm_port}/crm/v3/objects/companies?limit=1&properties=name,city'
  curl -s -X PATCH 'http://127.0.0.1:{crm_port}/_sim/companies/ID' \\
       -H 'Content-Type: application/json' -d '{{"properties": {{"city": "Giethoorn"}}}}'
In another terminal: syncd status, syncd log --follow, syncd conflicts.
"""
