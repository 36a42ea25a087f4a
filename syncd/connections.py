"""Turning settings into live connections: gateways per side and the state store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from syncd.config import ConnectionSettings, Settings
from syncd.engine.cycle import Connection
from syncd.errors import ConfigError, Problem
from syncd.gateways.afas.gateway import build_afas_gateway
from syncd.gateways.base import Gateway
from syncd.gateways.fixture import load_fixture, save_fixture
from syncd.gateways.hubspot.gateway import build_hubspot
from syncd.gateways.memory import MemoryGateway
from syncd.gateways.options import GatewaySettings
from syncd.mapping import EntityMapping
from syncd.records import Side
from syncd.state.store import StateStore, open_store

GatewayBuilder = Callable[[GatewaySettings, Side, Mapping[str, EntityMapping]], Gateway]
"""Builds the gateway of one side from its settings (secrets already read from the env)."""

BUILDERS: dict[str, GatewayBuilder] = {"afas": build_afas_gateway, "hubspot": build_hubspot}
"""Gateway builders by kind; "memory" is built from the connection's fixture instead."""


@runtime_checkable
class Startable(Protocol):
    """A gateway with checks to run before the first cycle (a missing property, ...)."""

    async def start(self) -> None: ...


class SideChecks:
    """A connection's checks before its first cycle, run again until they pass.

    The daemon runs them with its cycles, not as it starts: a side that is down (or
    refuses the token) at start then fails its connection's cycles, backed off and
    reported like any failing side, while the other connections sync.
    """

    def __init__(self, gateways: Iterable[Gateway]) -> None:
        self._startable = [g for g in gateways if isinstance(g, Startable)]
        self._lock = asyncio.Lock()  # the connection's lanes share one check
        self.passed = not self._startable

    async def run(self) -> None:
        async with self._lock:
            if self.passed:
                return
            for gateway in self._startable:
                await gateway.start()
            self.passed = True


@dataclass(frozen=True)
class Systems:
    """The in-memory systems of a fixture file, written back after a cycle."""

    path: Path
    memory: Mapping[Side, MemoryGateway]
    overrides: bool  # --fixture: both sides are these systems, whatever the config says

    def save(self) -> None:
        save_fixture(self.path, self.memory[Side.CRM], self.memory[Side.AFAS])


def select_connections(settings: Settings, name: str | None) -> list[ConnectionSettings]:
    """The connection called ``name``, or all of them."""
    if name is None:
        return list(settings.connections)
    chosen = [c for c in settings.connections if c.name == name]
    if not chosen:
        known = ", ".join(c.name for c in settings.connections)
        raise ConfigError(
            [
                Problem(
                    str(settings.source),
                    f"connections.{name}",
                    f"no such connection; known: {known}",
                )
            ]
        )
    return chosen


def _load_systems(settings: Settings, chosen: ConnectionSettings, fixture: Path | None) -> Systems:
    path = fixture or chosen.fixture
    where = f"connections.{chosen.name}.fixture"
    if path is None:
        raise ConfigError(
            [
                Problem(
                    str(settings.source),
                    where,
                    "memory gateways need a fixture file; set it or pass --fixture",
                )
            ]
        )
    if not path.exists():
        raise ConfigError(
            [
                Problem(
                    str(path),
                    "",
                    "the fixture file does not exist; to try syncd with sample data, "
                    "copy tests/fixtures/systems.json there or pass --fixture",
                )
            ]
        )
    crm, afas = load_fixture(path, settings.mappings)
    return Systems(path, {Side.CRM: crm, Side.AFAS: afas}, fixture is not None)


def _build_gateway(
    settings: Settings, chosen: ConnectionSettings, side: Side, systems: Systems | None
) -> Gateway:
    config = chosen.side(side)
    if systems is not None and (config.kind == "memory" or systems.overrides):
        return systems.memory[side]
    builder = BUILDERS.get(config.kind)
    if builder is None:
        raise ConfigError(
            [
                Problem(
                    str(settings.source),
                    f"connections.{chosen.name}.{side}.kind",
                    f"no gateway is built for kind {config.kind!r}",
                )
            ]
        )
    return builder(config, side, settings.mappings)


@asynccontextmanager
async def open_connection(
    settings: Settings,
    chosen: ConnectionSettings,
    fixture: Path | None = None,
    *,
    store: StateStore | None = None,
    check_sides: bool = True,
) -> AsyncIterator[tuple[Connection, Systems | None]]:
    """A connection with its gateways and store open; closed again on exit.

    ``store`` is the state store to use, left open on exit: the daemon's connections
    share its one store (one pool of database connections, not one per connection).
    Without it, the connection opens a store of its own and closes it on exit.
    ``fixture`` (the CLI's ``--fixture``) replaces both sides by in-memory systems.
    Without ``check_sides`` the sides are not asked anything yet (see SideChecks).
    """
    uses_memory = fixture is not None or any(chosen.side(side).kind == "memory" for side in Side)
    systems = _load_systems(settings, chosen, fixture) if uses_memory else None
    gateways = {side: _build_gateway(settings, chosen, side, systems) for side in Side}
    async with AsyncExitStack() as closing:
        for gateway in gateways.values():
            closing.push_async_callback(gateway.aclose)
        if store is None:
            store = await closing.enter_async_context(await open_store(settings.state_url))
        if check_sides:  # e.g. HubSpot: read and check the property definitions
            await SideChecks(gateways.values()).run()
        conn = Connection(
            name=chosen.name,
            gateways=gateways,
            store=store,
            mappings=settings.mappings,
            rules=settings.rules,
            overlap=settings.overlap,
        )
        yield conn, systems
