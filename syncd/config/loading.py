"""``config.toml`` -> :class:`Settings`: frozen, validated, every problem reported at once.

The shipped ``config.toml`` documents every key; :mod:`syncd.config.tables` holds its
schema. Relative paths in it are relative to the directory of the file itself. The
environment may override the state URL (``SYNCD_STATE_URL``), the data directory, the
status port, and names this replica; secrets (API tokens) never live in the file: an
option names an environment variable, read into a :class:`Secret` whose value is never
printed.

Gateway kinds are a registry (:data:`GATEWAY_KINDS`): each kind, defined by its gateway,
lists the sides it can serve and the model of its options, so a new kind is one entry.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError

from syncd.config.settings import (
    ConnectionJournal,
    ConnectionSettings,
    ConnectionWebhooks,
    DaemonSettings,
    Settings,
    StatusSettings,
    WebhooksSettings,
)
from syncd.config.tables import (
    DEFAULT_ENTITIES,
    STATE_URL_ENV,
    ConfigFile,
    ConnectionTable,
    ConnectionWebhooksTable,
    table_context,
)
from syncd.errors import ConfigError, Problem
from syncd.gateways.afas.options import AFAS
from syncd.gateways.hubspot.options import HUBSPOT
from syncd.gateways.options import MEMORY, GatewayKind
from syncd.mapping import KNOWN_ENTITIES, EntityMapping, load_mappings
from syncd.problems.pydantic_errors import problems_of
from syncd.problems.report import ProblemReport
from syncd.problems.toml_file import read_toml
from syncd.records import Side
from syncd.state.url import resolve_sqlite_path, url_problem

__all__ = ["GATEWAY_KINDS", "load_settings"]

DATA_DIR_ENV = "SYNCD_DATA_DIR"  # the container sets it to its /data volume
REPLICA_ENV = "SYNCD_REPLICA"  # names this replica in leases, status and User-Agent
STATUS_PORT_ENV = "SYNCD_STATUS_PORT"  # replicas on one host each need a port of their own

GATEWAY_KINDS: dict[str, GatewayKind] = {kind.name: kind for kind in (MEMORY, AFAS, HUBSPOT)}
"""Gateway kinds by name; each gateway package defines its own."""


def load_settings(
    path: Path, env: Mapping[str, str] | None = None, *, secrets: bool = True
) -> Settings:
    """Read and check ``path`` and the mapping files it names.

    Raises :class:`ConfigError` with every problem of the config file, the environment
    and the mapping files together. With ``secrets=False`` (commands that never talk to
    a side) unset secret variables are not reported.
    """
    env = os.environ if env is None else env
    report = ProblemReport(str(path))
    doc = read_toml(path, report)
    if doc is None:
        raise ConfigError(report.problems)
    base = path.resolve().parent
    problems: list[Problem] = []
    try:
        file: ConfigFile | None = ConfigFile.model_validate(
            doc, context=table_context(env, GATEWAY_KINDS, secrets=secrets, base=base)
        )
    except ValidationError as exc:
        file, problems = None, problems_of(exc, ConfigFile, str(path))
    problems += _environment_problems(env)
    _warn_of_retired_options(doc, str(path))
    entities, directory = _mapping_files(file, doc, base)
    mappings: dict[str, EntityMapping] = {}
    if not directory.is_dir():
        message = (
            f"{str(directory)!r} is not a directory; point it at the directory holding "
            "<entity>.toml mapping files"
        )
        problems.append(Problem(str(path), "sync.mappings", message))
    else:
        try:
            mappings = load_mappings(directory, entities)
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems or file is None:
        raise ConfigError(problems)
    return _settings(file, path, base, env, MappingProxyType(mappings))


def _settings(
    file: ConfigFile,
    path: Path,
    base: Path,
    env: Mapping[str, str],
    mappings: Mapping[str, EntityMapping],
) -> Settings:
    data_dir = _resolved(base, file.data_dir) or base / "data"
    if env.get(DATA_DIR_ENV):
        data_dir = Path(env[DATA_DIR_ENV])
    state_url = env.get(STATE_URL_ENV, "").strip() or (
        resolve_sqlite_path(file.state.url, base)
        if file.state.url is not None
        else f"sqlite:///{data_dir / 'syncd.db'}"
    )
    connections = tuple(
        ConnectionSettings(
            name,
            table.crm,
            table.afas,
            _resolved(base, table.fixture),
            _webhooks(table.webhooks),
            _journal(table),
        )
        for name, table in file.connections.items()
    )
    daemon, status, port = file.daemon, file.status, _status_port(env)
    return Settings(
        source=path,
        data_dir=data_dir,
        state_url=state_url,
        rules=file.sync.rules(),
        overlap=timedelta(seconds=file.sync.overlap_seconds),
        entities=tuple(file.sync.entities),
        mappings=mappings,
        connections=connections,
        daemon=DaemonSettings(
            interval=timedelta(seconds=daemon.interval_seconds),
            jitter=timedelta(seconds=daemon.jitter_seconds),
            full_sweep_cron=daemon.full_sweep_cron,
            shutdown_grace=timedelta(seconds=daemon.shutdown_grace_seconds),
            max_backoff=timedelta(seconds=daemon.max_backoff_seconds),
            lease_check=timedelta(seconds=daemon.lease_check_seconds),
            lease_timeout=timedelta(seconds=daemon.lease_timeout_seconds),
            replica=env.get(REPLICA_ENV, "").strip() or None,
            busy_interval=timedelta(seconds=daemon.busy_interval()),
            busy_for=timedelta(seconds=daemon.busy_for_seconds),
        ),
        status=StatusSettings(
            enabled=status.enabled,
            host=status.host,
            port=status.port if port is None else port,
            token=status.token_env,
            actions=status.actions,
            operator=status.operator,
            operators=MappingProxyType(dict(status.operators)),
        ),
        webhooks=WebhooksSettings(
            host=file.webhooks.host,
            port=file.webhooks.port,
            gather=timedelta(seconds=file.webhooks.gather_seconds),
        ),
    )


def _webhooks(table: ConnectionWebhooksTable | None) -> ConnectionWebhooks | None:
    if table is None:
        return None
    return ConnectionWebhooks(table.public_url, table.client_secret_env)


def _journal(table: ConnectionTable) -> ConnectionJournal | None:
    journal = table.journal
    portal = getattr(table.crm.options, "portal_id", None)
    if journal is None or not isinstance(portal, int):
        return None
    poll = timedelta(seconds=journal.poll_seconds)
    return ConnectionJournal(poll, journal.client_id, journal.client_secret_env, portal)


def _resolved(base: Path, value: str | None) -> Path | None:
    if value is None:
        return None
    return Path(value) if Path(value).is_absolute() else (base / value).resolve()


def _status_port(env: Mapping[str, str]) -> int | None:
    """``$SYNCD_STATUS_PORT``, if set, over ``[status] port``."""
    value = env.get(STATUS_PORT_ENV, "").strip()
    return int(value) if value.isdigit() and int(value) <= 65535 else None


def _environment_problems(env: Mapping[str, str]) -> list[Problem]:
    problems: list[Problem] = []
    url = env.get(STATE_URL_ENV, "").strip()
    problem = url_problem(url) if url else None
    if problem is not None:
        problems.append(Problem("environment", STATE_URL_ENV, problem))
    port = env.get(STATUS_PORT_ENV, "").strip()
    if port and _status_port(env) is None:
        message = (
            f"{port!r} is not a port; use a whole number from 0 to 65535 "
            "(0: any free port, the one chosen is logged at start)"
        )
        problems.append(Problem("environment", STATUS_PORT_ENV, message))
    return problems


def _warn_of_retired_options(doc: Mapping[str, Any], source: str) -> None:
    """An option a kind no longer uses is ignored, with a warning to remove it."""
    connections = doc.get("connections")
    for name, table in connections.items() if isinstance(connections, dict) else ():
        for side in Side:
            gateway = table.get(side.value) if isinstance(table, dict) else None
            if not isinstance(gateway, dict) or gateway.get("kind") not in GATEWAY_KINDS:
                continue
            for key, why in GATEWAY_KINDS[gateway["kind"]].options.retired.items():
                if key in gateway:
                    where = f"connections.{name}.{side}.{key}"
                    warnings.warn(f"{source}: {where} {why}", FutureWarning, stacklevel=3)


def _mapping_files(
    file: ConfigFile | None, doc: Mapping[str, Any], base: Path
) -> tuple[tuple[str, ...], Path]:
    """The entities and the directory of their mapping files, as far as the config says
    them validly: a broken config still has its mapping files checked."""
    if file is not None:
        return tuple(file.sync.entities), _resolved(base, file.sync.mappings) or base / "mappings"
    sync = doc.get("sync")
    sync = sync if isinstance(sync, dict) else {}
    listed = sync.get("entities", list(DEFAULT_ENTITIES))
    listed = listed if isinstance(listed, list) else []
    entities = tuple(dict.fromkeys(e for e in listed if e in KNOWN_ENTITIES))
    directory = sync.get("mappings")
    given = directory if isinstance(directory, str) and directory.strip() else None
    return entities, _resolved(base, given) or base / "mappings"
