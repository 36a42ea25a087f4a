"""What a reloaded config changes for a running daemon: pure, from two :class:`Settings`.

A connection is *added*, *removed* or *changed* (restarted); changing what every
connection runs with (mappings, sync rules, entities, the daemon's schedule) changes
them all. Where the state lives, the data directory and the status server are opened
once as the daemon starts: a change to them waits for a restart.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from syncd.config.settings import ConnectionSettings, Settings
from syncd.gateways.options import Secret

__all__ = ["ConfigChanges", "config_changes", "keep_for_restart"]


@dataclass(frozen=True)
class ConfigChanges:
    """The connections to open, close and restart, and what only a restart applies."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    need_restart: tuple[str, ...] = ()  # settings kept as they were until a restart


def config_changes(old: Settings, new: Settings) -> ConfigChanges:
    before = {c.name: c for c in old.connections}
    after = {c.name: c for c in new.connections}
    shared = _shared(old) != _shared(new)
    return ConfigChanges(
        added=tuple(name for name in after if name not in before),
        removed=tuple(name for name in before if name not in after),
        changed=tuple(
            name
            for name in after
            if name in before and (shared or _differ(before[name], after[name]))
        ),
        need_restart=tuple(
            setting
            for setting in ("state_url", "data_dir", "status")
            if getattr(old, setting) != getattr(new, setting)
        ),
    )


def _shared(settings: Settings) -> tuple[object, ...]:
    """What every connection's cycles run with."""
    return (
        settings.rules,
        settings.overlap,
        settings.entities,
        dict(settings.mappings),
        settings.daemon,
    )


def _differ(old: ConnectionSettings, new: ConnectionSettings) -> bool:
    # A secret compares by its name alone: a token rotated in its file or variable
    # changes the connection too.
    return old != new or _secret_values(old) != _secret_values(new)


def _secret_values(connection: ConnectionSettings) -> list[str]:
    return [
        value.value
        for side in (connection.crm, connection.afas)
        for value in dict(side.options).values()
        if isinstance(value, Secret)
    ]


def keep_for_restart(old: Settings, new: Settings) -> Settings:
    """``new``, but with the settings only a restart applies as they were."""
    return dataclasses.replace(
        new, state_url=old.state_url, data_dir=old.data_dir, status=old.status
    )
