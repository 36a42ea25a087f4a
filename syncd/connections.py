"""Turning settings into live connections: gateways per side and the state store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from syncd.config import ConnectionSettings, Settings
from syncd.engine.cycle import Connection
from syncd.errors import ConfigError, Problem
from syncd.gateways.fixture import load_fixture, save_fixture
from syncd.gateways.memory import MemoryGateway
from syncd.records import Side
from syncd.state.store import StateStore, open_store


@dataclass(frozen=True)
class Systems:
    """The two in-memory systems of a fixture file, written back after a cycle."""

    path: Path
    crm: MemoryGateway
    afas: MemoryGateway

    def save(self) -> None:
        save_fixture(self.path, self.crm, self.afas)


def pick(settings: Settings, name: str | None) -> list[ConnectionSettings]:
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


@asynccontextmanager
async def opened(
    settings: Settings, chosen: ConnectionSettings, fixture: Path | None = None
) -> AsyncIterator[tuple[Connection, Systems]]:
    """A connection with its store open; in-memory systems come from the fixture file."""
    path = fixture or chosen.fixture
    if path is None:
        raise ConfigError(
            [
                Problem(
                    str(settings.source),
                    f"connections.{chosen.name}.fixture",
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
                    "the fixture file does not exist; to try syncd with "
                    "sample data, copy tests/fixtures/systems.json there or pass --fixture",
                )
            ]
        )
    crm, afas = load_fixture(path, settings.mappings)
    store: StateStore = await open_store(settings.state_url)
    try:
        conn = Connection(
            name=chosen.name,
            gateways={Side.CRM: crm, Side.AFAS: afas},
            store=store,
            mappings=settings.mappings,
            rules=settings.rules,
            overlap=settings.overlap,
        )
        yield conn, Systems(path, crm, afas)
    finally:
        await store.close()
