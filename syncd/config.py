"""``config.toml`` -> :class:`Settings`: frozen, validated, every problem reported at once.

The shipped ``config.toml`` documents every key. Relative paths in it are relative to the
directory of the file itself. The state-store URL may be overridden by the environment
variable ``SYNCD_STATE_URL``; other secrets (API tokens) never live in the file: a
gateway option of type ``secret`` names an environment variable, and :func:`load_settings`
reads it into a :class:`Secret` whose value is never printed.

Gateway kinds are a registry (:data:`GATEWAY_KINDS`): each kind lists the sides it can
serve and its own options, so a new kind (AFAS, HubSpot) is one entry there.
"""

from __future__ import annotations

import dataclasses
import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from syncd.crontab import crontab_problem
from syncd.database_url import redact_url, resolve_sqlite_path, url_problem
from syncd.errors import ConfigError, Problem
from syncd.mapping import KNOWN_ENTITIES, EntityMapping, load_mappings
from syncd.policy import ConflictRule, DeletePolicy, Guards, SyncRules
from syncd.problems import ProblemReport, choices, describe
from syncd.records import Side
from syncd.tomlfile import read_toml

__all__ = [
    "GATEWAY_KINDS",
    "STATE_URL_ENV",
    "ConnectionSettings",
    "GatewayKind",
    "GatewayOption",
    "GatewaySettings",
    "Secret",
    "Settings",
    "load_settings",
]

STATE_URL_ENV = "SYNCD_STATE_URL"
DATA_DIR_ENV = "SYNCD_DATA_DIR"  # the container sets it to its /data volume
REPLICA_ENV = "SYNCD_REPLICA"  # names this replica in leases, status and User-Agent
"""Environment variable that overrides ``[state] url``."""
STATUS_PORT_ENV = "SYNCD_STATUS_PORT"  # replicas on one host each need a port of their own

DEFAULT_OVERLAP_SECONDS = 300
DEFAULT_ENTITIES = ("customer", "supplier")


@dataclass(frozen=True)
class Secret:
    """A value read from an environment variable; shown only by the variable's name."""

    variable: str
    value: str = dataclass_field(repr=False, compare=False)

    def __str__(self) -> str:
        return f"${self.variable}"


@dataclass(frozen=True)
class GatewaySettings:
    """One side's gateway: its kind and the kind's options (secrets as :class:`Secret`)."""

    kind: str
    options: Mapping[str, object]


@dataclass(frozen=True)
class ConnectionSettings:
    """A CRM portal and an AFAS environment synced together."""

    name: str
    crm: GatewaySettings
    afas: GatewaySettings
    fixture: Path | None  # JSON file of both in-memory systems, for kind = "memory"

    def side(self, side: Side) -> GatewaySettings:
        return self.crm if side is Side.CRM else self.afas


@dataclass(frozen=True)
class DaemonSettings:
    """How ``syncd run`` schedules cycles and stops."""

    interval: timedelta = timedelta(seconds=60)
    jitter: timedelta = timedelta(seconds=10)
    full_sweep_cron: str = "30 3 * * *"
    shutdown_grace: timedelta = timedelta(seconds=30)
    max_backoff: timedelta = timedelta(minutes=15)
    # Replicas on a PostgreSQL store (see syncd.lease): how often a replica checks its
    # leases and claims free lanes, and how long the server waits for a silent replica.
    lease_check: timedelta = timedelta(seconds=5)
    lease_timeout: timedelta = timedelta(seconds=30)
    replica: str | None = None  # from $SYNCD_REPLICA; None: host name and process id


@dataclass(frozen=True)
class StatusSettings:
    """The HTTP status server of ``syncd run``."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 8686
    token: Secret | None = None


@dataclass(frozen=True)
class Settings:
    """Everything config.toml and the mapping files say, validated."""

    source: Path
    data_dir: Path
    state_url: str
    rules: SyncRules
    overlap: timedelta
    entities: tuple[str, ...]
    mappings: Mapping[str, EntityMapping]
    connections: tuple[ConnectionSettings, ...]
    daemon: DaemonSettings = DaemonSettings()
    status: StatusSettings = StatusSettings()

    def __repr__(self) -> str:
        return (
            f"Settings(source={str(self.source)!r}, data_dir={str(self.data_dir)!r}, "
            f"state_url={redact_url(self.state_url)!r}, entities={self.entities!r}, "
            f"connections={[c.name for c in self.connections]!r})"
        )


# --- gateway kinds --------------------------------------------------------------------


class OptionType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    SECRET = "secret"  # the name of an environment variable holding the value


_OPTION_WANTED = {
    OptionType.STRING: "a string",
    OptionType.INTEGER: "a whole number",
    OptionType.NUMBER: "a number",
    OptionType.BOOLEAN: "true or false",
    OptionType.SECRET: "the name of an environment variable",
}


@dataclass(frozen=True)
class GatewayOption:
    """One key a gateway kind accepts in its ``crm = {...}`` / ``afas = {...}`` table."""

    type: OptionType
    required: bool = False
    default: object = None
    help: str = ""
    retired: str = ""  # why an old option is ignored now: the config still starts


@dataclass(frozen=True)
class GatewayKind:
    """A kind of gateway: the sides it can serve and the options it takes."""

    name: str
    sides: frozenset[Side]
    options: Mapping[str, GatewayOption] = dataclass_field(default_factory=dict)
    uses_fixture: bool = False


GATEWAY_KINDS: dict[str, GatewayKind] = {
    "memory": GatewayKind(
        name="memory",
        sides=frozenset(Side),
        uses_fixture=True,
    ),
    "afas": GatewayKind(
        name="afas",
        sides=frozenset({Side.AFAS}),
        options={
            "environment": GatewayOption(
                OptionType.INTEGER, help="the 5-digit environment number, or give base_url"
            ),
            "environment_type": GatewayOption(
                OptionType.STRING,
                default="production",
                help="production (rest), test (resttest) or accept (restaccept)",
            ),
            "base_url": GatewayOption(
                OptionType.STRING, help="https://.../ProfitRestServices, instead of environment"
            ),
            "token": GatewayOption(
                OptionType.SECRET, help="environment variable holding the app connector token"
            ),
            "oauth_client_id": GatewayOption(OptionType.STRING, help="OAuth client credentials"),
            "oauth_client_secret": GatewayOption(
                OptionType.SECRET, help="environment variable holding the OAuth client secret"
            ),
            "concurrency": GatewayOption(
                OptionType.INTEGER, default=5, help="parallel requests, 1 to 8 (AFAS allows 8)"
            ),
            "rate": GatewayOption(OptionType.NUMBER, help="requests per second at most"),
            "ca_bundle": GatewayOption(
                OptionType.STRING, help="a PEM file of CAs to trust besides the system's"
            ),
            "read_timeout": GatewayOption(
                OptionType.NUMBER, default=900, help="seconds; AFAS gives up after 900"
            ),
            "write_timeout": GatewayOption(
                OptionType.NUMBER, default=300, help="seconds to wait for a write"
            ),
            "server_timeout": GatewayOption(
                OptionType.NUMBER,
                default=900,
                help="seconds after which Profit stops a request (its own limit: 900); a "
                "create not answered is not sent again before this long has passed",
            ),
            "page_size": GatewayOption(OptionType.INTEGER, default=500),
            "currency": GatewayOption(OptionType.STRING, default="EUR"),
            "match_oga": GatewayOption(
                OptionType.STRING,
                retired="is ignored: a company's second role goes under the organisation of "
                "its first, any other company gets a new one (never one found by its KvK "
                "number, which not every company has); remove it",
            ),
            "autonum": GatewayOption(OptionType.BOOLEAN, default=True),
        },
    ),
    "hubspot": GatewayKind(
        name="hubspot",
        sides=frozenset({Side.CRM}),
        options={
            "token": GatewayOption(
                OptionType.SECRET,
                required=True,
                help="environment variable holding the private-app or service-key token",
            ),
            "base_url": GatewayOption(OptionType.STRING, default="https://api.hubapi.com"),
            "api_version": GatewayOption(
                OptionType.STRING,
                default="v3",
                help='"v3" (/crm/v3/...) or a dated version like "2026-03"',
            ),
            "search_settle_seconds": GatewayOption(
                OptionType.NUMBER,
                default=60,
                help="leave the newest seconds to a later cycle: search lags behind writes",
            ),
            "search_per_second": GatewayOption(
                OptionType.NUMBER,
                default=4,
                help="HubSpot allows 5 per portal, shared by all its apps",
            ),
            "requests_per_ten_seconds": GatewayOption(
                OptionType.NUMBER,
                default=100,
                help="HubSpot allows each app 100 (190 on Pro/Enterprise); lower it if "
                "other tools use the same private app",
            ),
            "daily_budget": GatewayOption(
                OptionType.INTEGER,
                default=200_000,
                help="requests a day syncd may use; the portal's 250,000+ is shared",
            ),
            "timeout_seconds": GatewayOption(OptionType.NUMBER, default=30),
            "ca_bundle": GatewayOption(
                OptionType.STRING, help="a PEM file of CAs to trust besides the system's"
            ),
        },
    ),
}
"""Gateway kinds by name. Add the AFAS and HubSpot kinds here, with their options."""


# --- helpers --------------------------------------------------------------------------

_T = TypeVar("_T", bound=StrEnum)
_CONNECTION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_TOP_KEYS = ("data_dir", "state", "sync", "daemon", "status", "connections")
_STATUS_KEYS = ("enabled", "host", "port", "token_env")
_LOOPBACK = ("127.0.0.1", "::1", "localhost")
_DAEMON_KEYS = (
    "interval_seconds",
    "jitter_seconds",
    "full_sweep_cron",
    "shutdown_grace_seconds",
    "max_backoff_seconds",
    "lease_check_seconds",
    "lease_timeout_seconds",
)
_STATE_KEYS = ("url",)
_SYNC_KEYS = (
    "entities",
    "mappings",
    "conflict",
    "newest_tie",
    "blank_overwrites",
    "deletes",
    "create_in_crm",
    "create_in_afas",
    "review_first",
    "write_correlation_keys",
    "overlap_seconds",
    "guards",
)
_GUARD_KEYS = ("max_delete_share", "max_blank_share", "min_records_for_share", "refuse_empty_side")
_CONNECTION_KEYS = ("crm", "afas", "fixture")


def _table(
    report: ProblemReport, parent: Mapping[str, Any], key: str, where: str
) -> dict[str, Any]:
    """An optional sub-table ({} if absent; {} with a problem if not a table)."""
    value = parent.get(key, {})
    if isinstance(value, dict):
        return value
    report.add(where, f"expected a table, got {describe(value)}; write it as [{where}]")
    return {}


def _bool(
    report: ProblemReport, table: Mapping[str, Any], key: str, where: str, default: bool
) -> bool:
    value = table.get(key, default)
    if isinstance(value, bool):
        return value
    report.add(where, f"expected true or false, got {describe(value)}")
    return default


def _enum(
    report: ProblemReport,
    table: Mapping[str, Any],
    key: str,
    where: str,
    enum: type[_T],
    default: _T,
) -> _T:
    value = table.get(key, default.value)
    try:
        return enum(value)
    except ValueError:
        report.add(where, f"{value!r} is not allowed; use one of: {choices(enum)}")
        return default


def _number(
    report: ProblemReport,
    table: Mapping[str, Any],
    key: str,
    where: str,
    default: float,
    *,
    integer: bool = False,
    maximum: float | None = None,
) -> float:
    value = table.get(key, default)
    wanted = "a whole number" if integer else "a number"
    number: float
    if isinstance(value, bool) or not isinstance(value, int | float):
        report.add(where, f"expected {wanted}, got {describe(value)}")
        return default
    if integer and not isinstance(value, int):
        report.add(where, f"expected {wanted}, got {describe(value)}")
        return default
    number = value
    if number < 0 or (maximum is not None and number > maximum):
        bounds = f"from 0 to {maximum:g}" if maximum is not None else "of at least 0"
        report.add(where, f"{value!r} is out of range; use {wanted} {bounds}")
        return default
    return float(number)


def _path(
    report: ProblemReport, table: Mapping[str, Any], key: str, where: str, base: Path
) -> Path | None:
    if key not in table:
        return None
    value = table[key]
    if not isinstance(value, str) or not value.strip():
        report.add(where, f"expected a path (a non-empty string), got {describe(value)}")
        return None
    return (base / value).resolve() if not Path(value).is_absolute() else Path(value)


# --- sections -------------------------------------------------------------------------


def _state_url(
    report: ProblemReport,
    doc: Mapping[str, Any],
    env: Mapping[str, str],
    base: Path,
    data_dir: Path,
) -> str:
    state = _table(report, doc, "state", "state")
    report.unknown_keys(state, _STATE_KEYS, "state.")
    from_env = env.get(STATE_URL_ENV, "").strip()
    if from_env:
        env_report = ProblemReport("environment")
        url = _check_url(from_env, env_report, STATE_URL_ENV, None)
        report.problems.extend(env_report.problems)
        return url
    if "url" not in state:
        return f"sqlite:///{data_dir / 'syncd.db'}"
    value = state["url"]
    if not isinstance(value, str) or not value.strip():
        report.add("state.url", f"expected a database URL (a string), got {describe(value)}")
        return ""
    return _check_url(value.strip(), report, "state.url", base)


def _check_url(url: str, report: ProblemReport, where: str, base: Path | None) -> str:
    """``url`` checked (and a relative SQLite path made relative to ``base``)."""
    problem = url_problem(url)
    if problem is not None:
        report.add(where, problem)
        return url
    return url if base is None else resolve_sqlite_path(url, base)


def _rules(report: ProblemReport, sync: Mapping[str, Any]) -> SyncRules:
    defaults = SyncRules()
    return SyncRules(
        conflict=_enum(report, sync, "conflict", "sync.conflict", ConflictRule, defaults.conflict),
        newest_tie=_enum(report, sync, "newest_tie", "sync.newest_tie", Side, defaults.newest_tie),
        blank_overwrites=_bool(
            report, sync, "blank_overwrites", "sync.blank_overwrites", defaults.blank_overwrites
        ),
        deletes=_enum(report, sync, "deletes", "sync.deletes", DeletePolicy, defaults.deletes),
        create_in_crm=_bool(
            report, sync, "create_in_crm", "sync.create_in_crm", defaults.create_in_crm
        ),
        create_in_afas=_bool(
            report, sync, "create_in_afas", "sync.create_in_afas", defaults.create_in_afas
        ),
        review_first=_bool(
            report, sync, "review_first", "sync.review_first", defaults.review_first
        ),
        write_correlation_keys=_bool(
            report,
            sync,
            "write_correlation_keys",
            "sync.write_correlation_keys",
            defaults.write_correlation_keys,
        ),
    )


def _guards(report: ProblemReport, sync: Mapping[str, Any]) -> Guards:
    guards_table = _table(report, sync, "guards", "sync.guards")
    report.unknown_keys(guards_table, _GUARD_KEYS, "sync.guards.")
    dg = Guards()
    return Guards(
        max_delete_share=_number(
            report,
            guards_table,
            "max_delete_share",
            "sync.guards.max_delete_share",
            dg.max_delete_share,
            maximum=1,
        ),
        max_blank_share=_number(
            report,
            guards_table,
            "max_blank_share",
            "sync.guards.max_blank_share",
            dg.max_blank_share,
            maximum=1,
        ),
        min_records_for_share=int(
            _number(
                report,
                guards_table,
                "min_records_for_share",
                "sync.guards.min_records_for_share",
                dg.min_records_for_share,
                integer=True,
            )
        ),
        refuse_empty_side=_bool(
            report,
            guards_table,
            "refuse_empty_side",
            "sync.guards.refuse_empty_side",
            dg.refuse_empty_side,
        ),
    )


def _entities(report: ProblemReport, sync: Mapping[str, Any]) -> tuple[str, ...]:
    raw = sync.get("entities", list(DEFAULT_ENTITIES))
    if not isinstance(raw, list) or not all(isinstance(e, str) for e in raw):
        report.add(
            "sync.entities",
            f"expected an array of entity names, like {list(DEFAULT_ENTITIES)}, "
            f"got {describe(raw)}",
        )
        return ()
    if not raw:
        report.add("sync.entities", f"empty; list at least one of: {choices(KNOWN_ENTITIES)}")
    entities: list[str] = []
    for entity in raw:
        if entity not in KNOWN_ENTITIES:
            report.add(
                "sync.entities",
                f"{entity!r} is not an entity; use any of: {choices(KNOWN_ENTITIES)}",
            )
        elif entity in entities:
            report.add("sync.entities", f"{entity!r} is listed twice; list it once")
        else:
            entities.append(entity)
    return tuple(entities)


def _gateway(
    report: ProblemReport,
    table: Mapping[str, Any],
    side: Side,
    where: str,
    env: Mapping[str, str],
) -> GatewaySettings | None:
    if side.value not in table:
        report.add(where, f'missing; add {side} = {{ kind = "..." }} (kinds: {_kinds(side)})')
        return None
    raw = table[side.value]
    if not isinstance(raw, dict):
        report.add(where, f'expected a table like {{ kind = "memory" }}, got {describe(raw)}')
        return None
    kind_name = raw.get("kind")
    if not isinstance(kind_name, str):
        got = "nothing" if kind_name is None else describe(kind_name)
        report.add(f"{where}.kind", f"expected a gateway kind ({_kinds(side)}), got {got}")
        return None
    kind = GATEWAY_KINDS.get(kind_name)
    if kind is None or side not in kind.sides:
        report.add(
            f"{where}.kind",
            f"{kind_name!r} is not a {side} gateway kind; allowed kinds: {_kinds(side)}",
        )
        return None
    report.unknown_keys(raw, ("kind", *kind.options), f"{where}.")
    options: dict[str, object] = {}
    ok = True
    for key, option in kind.options.items():
        if option.retired:
            if key in raw:
                message = f"{report.source}: {where}.{key} {option.retired}"
                warnings.warn(message, FutureWarning, stacklevel=1)
            continue
        value = _option(report, raw, key, f"{where}.{key}", option, env)
        if value is None and (option.required or key in raw):
            ok = False
        elif value is not None:
            options[key] = value
    return GatewaySettings(kind_name, MappingProxyType(options)) if ok else None


def _kinds(side: Side) -> str:
    return choices(name for name, kind in GATEWAY_KINDS.items() if side in kind.sides)


def _option(
    report: ProblemReport,
    raw: Mapping[str, Any],
    key: str,
    where: str,
    option: GatewayOption,
    env: Mapping[str, str],
) -> object:
    if key not in raw:
        if option.required:
            hint = f" ({option.help})" if option.help else ""
            report.add(where, f"missing; this option is required{hint}")
        return option.default
    value = raw[key]
    if option.type is OptionType.SECRET:
        if not isinstance(value, str) or not _ENV_NAME.fullmatch(value):
            report.add(
                where,
                f"expected the name of an environment variable, got {_unshown(value)}; "
                "secrets are read from the environment, never from this file",
            )
            return None
        secret = env.get(value, "")
        if not secret and not isinstance(env, _SecretsOptional):
            report.add(where, f"the environment variable {value} is not set; set it")
            return None
        return Secret(value, secret)
    expected: dict[OptionType, tuple[type, ...]] = {
        OptionType.STRING: (str,),
        OptionType.INTEGER: (int,),
        OptionType.NUMBER: (int, float),
        OptionType.BOOLEAN: (bool,),
    }
    is_bool = isinstance(value, bool)
    if not isinstance(value, expected[option.type]) or (
        is_bool and option.type is not OptionType.BOOLEAN
    ):
        report.add(where, f"expected {_OPTION_WANTED[option.type]}, got {describe(value)}")
        return None
    return value


def _unshown(value: object) -> str:
    """What a value is, never what it says: a token put where a variable name belongs
    must not end up in a log."""
    if isinstance(value, str):
        return f"a string of {len(value)} characters (not shown: it may be the secret itself)"
    return describe(value)


def _connections(
    report: ProblemReport, doc: Mapping[str, Any], base: Path, env: Mapping[str, str]
) -> tuple[ConnectionSettings, ...]:
    raw = doc.get("connections")
    if raw is None:
        report.add(
            "connections",
            'missing; add a [connections.<name>] table with crm = { kind = "..." } '
            'and afas = { kind = "..." }',
        )
        return ()
    if not isinstance(raw, dict):
        report.add("connections", f"expected tables [connections.<name>], got {describe(raw)}")
        return ()
    if not raw:
        report.add("connections", "no connections; add a [connections.<name>] table")
    connections: list[ConnectionSettings] = []
    for name, table in raw.items():
        prefix = f"connections.{name}"
        if not _CONNECTION_NAME.fullmatch(name):
            report.add(prefix, "use letters, digits, _ and - for a connection name")
            continue
        if not isinstance(table, dict):
            report.add(prefix, f"expected a table, got {describe(table)}; write [{prefix}]")
            continue
        report.unknown_keys(table, _CONNECTION_KEYS, f"{prefix}.")
        crm = _gateway(report, table, Side.CRM, f"{prefix}.crm", env)
        afas = _gateway(report, table, Side.AFAS, f"{prefix}.afas", env)
        fixture = _path(report, table, "fixture", f"{prefix}.fixture", base)
        kinds = [GATEWAY_KINDS[g.kind] for g in (crm, afas) if g is not None]
        if fixture is not None and len(kinds) == 2 and not any(k.uses_fixture for k in kinds):
            report.add(
                f"{prefix}.fixture",
                'only memory gateways read a fixture; remove it or use kind = "memory"',
            )
        if crm is not None and afas is not None:
            connections.append(ConnectionSettings(name, crm, afas, fixture))
    return tuple(connections)


def _daemon(
    report: ProblemReport, doc: Mapping[str, Any], env: Mapping[str, str]
) -> DaemonSettings:
    table = _table(report, doc, "daemon", "daemon")
    report.unknown_keys(table, _DAEMON_KEYS, "daemon.")
    default = DaemonSettings()

    def seconds(key: str, fallback: timedelta) -> timedelta:
        value = _number(report, table, key, f"daemon.{key}", fallback.total_seconds())
        return timedelta(seconds=value)

    cron = table.get("full_sweep_cron", default.full_sweep_cron)
    reason = crontab_problem(cron) if isinstance(cron, str) else f"got {describe(cron)}"
    if reason is not None:
        report.add(
            "daemon.full_sweep_cron",
            f"{cron!r} is not a crontab expression ({reason}); use five fields, "
            'e.g. "30 3 * * *" for 03:30 UTC every day',
        )
        cron = default.full_sweep_cron
    interval = seconds("interval_seconds", default.interval)
    if interval.total_seconds() < 1:
        report.add("daemon.interval_seconds", "must be at least 1 second")
        interval = default.interval
    check = seconds("lease_check_seconds", default.lease_check)
    timeout = seconds("lease_timeout_seconds", default.lease_timeout)
    if check.total_seconds() < 1:
        report.add("daemon.lease_check_seconds", "must be at least 1 second")
    elif timeout < 3 * check:
        # A replica must notice a broken lease connection (within two checks) before
        # the server gives its leases to another replica.
        report.add("daemon.lease_timeout_seconds", "must be at least 3 times lease_check_seconds")
    return DaemonSettings(
        interval=interval,
        jitter=seconds("jitter_seconds", default.jitter),
        full_sweep_cron=cron,
        shutdown_grace=seconds("shutdown_grace_seconds", default.shutdown_grace),
        max_backoff=seconds("max_backoff_seconds", default.max_backoff),
        lease_check=check,
        lease_timeout=timeout,
        replica=env.get(REPLICA_ENV, "").strip() or None,
    )


def _status(
    report: ProblemReport, doc: Mapping[str, Any], env: Mapping[str, str]
) -> StatusSettings:
    table = _table(report, doc, "status", "status")
    report.unknown_keys(table, _STATUS_KEYS, "status.")
    default = StatusSettings()
    enabled = _bool(report, table, "enabled", "status.enabled", default.enabled)
    host = table.get("host", default.host)
    if not isinstance(host, str) or not host:
        report.add("status.host", f'expected an address such as "127.0.0.1", got {describe(host)}')
        host = default.host
    port = int(
        _number(report, table, "port", "status.port", default.port, integer=True, maximum=65535)
    )
    port = _status_port_from_env(report, env, port)
    token: Secret | None = None
    variable = table.get("token_env")
    if variable is not None:
        if not isinstance(variable, str) or not env.get(variable):
            report.add(
                "status.token_env",
                f"environment variable {variable!r} is not set; set it to the token the "
                "status server must require",
            )
        else:
            token = Secret(variable, env[variable])
    if enabled and host not in _LOOPBACK and token is None:
        report.add(
            "status.host",
            f"the status server binds {host!r}, reachable from other machines: set "
            "status.token_env to an environment variable holding a token it will require",
        )
    return StatusSettings(enabled=enabled, host=host, port=port, token=token)


def _status_port_from_env(report: ProblemReport, env: Mapping[str, str], port: int) -> int:
    """``$SYNCD_STATUS_PORT``, if set, over ``[status] port``."""
    value = env.get(STATUS_PORT_ENV, "").strip()
    if not value:
        return port
    if value.isdigit() and int(value) <= 65535:
        return int(value)
    report.problems.append(
        Problem(
            "environment",
            STATUS_PORT_ENV,
            f"{value!r} is not a port; use a whole number from 0 to 65535 "
            "(0: any free port, the one chosen is logged at start)",
        )
    )
    return port


class _SecretsOptional(dict[str, str]):
    """The environment, for commands that only read the state store: a secret that is
    not set is no problem for them (its Secret is empty)."""


def load_settings(
    path: Path, env: Mapping[str, str] | None = None, *, secrets: bool = True
) -> Settings:
    """Read and check ``path`` and the mapping files it names.

    Raises :class:`ConfigError` with every problem of the config file, the environment
    and the mapping files together. With ``secrets=False`` (commands that never talk to
    a side) unset secret variables are not reported.
    """
    env = os.environ if env is None else env
    if not secrets:
        env = _SecretsOptional(env)
    report = ProblemReport(str(path))
    doc = read_toml(path, report)
    if doc is None:
        raise ConfigError(report.problems)
    base = path.resolve().parent
    report.unknown_keys(doc, _TOP_KEYS, "")

    data_dir = _path(report, doc, "data_dir", "data_dir", base) or base / "data"
    if env.get(DATA_DIR_ENV):
        data_dir = Path(env[DATA_DIR_ENV])
    state_url = _state_url(report, doc, env, base, data_dir)

    sync = _table(report, doc, "sync", "sync")
    report.unknown_keys(sync, _SYNC_KEYS, "sync.")
    entities = _entities(report, sync)
    mappings_dir = _path(report, sync, "mappings", "sync.mappings", base) or base / "mappings"
    rules = _rules(report, sync)
    overlap = _number(
        report, sync, "overlap_seconds", "sync.overlap_seconds", DEFAULT_OVERLAP_SECONDS
    )
    rules = dataclasses.replace(rules, guards=_guards(report, sync))
    connections = _connections(report, doc, base, env)
    daemon = _daemon(report, doc, env)
    status = _status(report, doc, env)

    problems: list[Problem] = list(report.problems)
    mappings: dict[str, EntityMapping] = {}
    if not mappings_dir.is_dir():
        problems.append(
            Problem(
                str(path),
                "sync.mappings",
                f"{str(mappings_dir)!r} is not a directory; point it at the directory "
                "holding <entity>.toml mapping files",
            )
        )
    else:
        try:
            mappings = load_mappings(mappings_dir, entities)
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    return Settings(
        source=path,
        data_dir=data_dir,
        state_url=state_url,
        rules=rules,
        overlap=timedelta(seconds=overlap),
        entities=entities,
        mappings=MappingProxyType(mappings),
        connections=connections,
        daemon=daemon,
        status=status,
    )
