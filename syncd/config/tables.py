"""The tables of ``config.toml`` as pydantic models: shape, types, ranges and defaults.

Validation reads two things from its context: the environment (secrets, and whether
``$SYNCD_STATE_URL`` replaces ``[state] url``) and the registry of gateway kinds that
:mod:`syncd.config.loading` assembles. Turning the validated tables into
:class:`~syncd.config.settings.Settings` (paths, the environment, the mapping files) is
the loader's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from syncd.config.crontab import crontab_problem
from syncd.gateways.options import (
    GatewayKind,
    GatewaySettings,
    Secret,
    SecretFromEnv,
    secrets_context,
    variable_name_problem,
)
from syncd.mapping import COMPANY_ENTITIES, KNOWN_ENTITIES
from syncd.policy import ConflictRule, DeletePolicy, Guards, SyncRules
from syncd.polling import FAIR_USE_FLOOR
from syncd.problems.pydantic_errors import Hint, restated, said, said_at
from syncd.problems.report import choices, describe
from syncd.problems.table import Table, one_of, within
from syncd.records import Side
from syncd.state.url import url_problem

__all__ = ["STATE_URL_ENV", "ConfigFile", "table_context"]

STATE_URL_ENV = "SYNCD_STATE_URL"
"""Environment variable that overrides ``[state] url``."""

DEFAULT_ENTITIES = ("customer", "supplier", "contact")
_CONNECTION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_LOOPBACK = ("127.0.0.1", "::1", "localhost")
_RULES, _GUARDS = SyncRules(), Guards()


def table_context(
    env: Mapping[str, str],
    kinds: Mapping[str, GatewayKind],
    *,
    secrets: bool,
    base: Path | None = None,
) -> dict[str, object]:
    """What validating config.toml needs besides the file (``base``: its directory)."""
    return {**secrets_context(env, required=secrets, base=base), "kinds": kinds}


def _context(info: ValidationInfo) -> dict[str, Any]:
    return info.context or {}


def _path(value: str) -> str:
    if not value.strip():
        raise said(f"expected a path (a non-empty string), got {describe(value)}")
    return value


PathText = Annotated[str, Hint(wanted="a path (a non-empty string)"), AfterValidator(_path)]
Seconds = Annotated[float, AfterValidator(within(0))]


class StateTable(Table):
    """[state]: where syncd keeps its state."""

    url: Annotated[str | None, Hint(wanted="a database URL (a string)")] = None

    @field_validator("url")
    @classmethod
    def _url(cls, url: str | None, info: ValidationInfo) -> str | None:
        if url is None or _context(info).get("env", {}).get(STATE_URL_ENV, "").strip():
            return url  # the environment's URL replaces it: checked by the loader
        if not url.strip():
            raise said(f"expected a database URL (a string), got {describe(url)}")
        problem = url_problem(url.strip())
        if problem is not None:
            raise said(problem)
        return url.strip()


class GuardsTable(Table):
    """[sync.guards]: when a plan is refused before anything is written."""

    max_delete_share: Annotated[float, AfterValidator(within(0, 1))] = _GUARDS.max_delete_share
    max_blank_share: Annotated[float, AfterValidator(within(0, 1))] = _GUARDS.max_blank_share
    min_records_for_share: Annotated[int, AfterValidator(within(0, whole=True))] = (
        _GUARDS.min_records_for_share
    )
    refuse_empty_side: bool = _GUARDS.refuse_empty_side

    def guards(self) -> Guards:
        return Guards(**self.model_dump())


def _entities(entities: list[str]) -> list[str]:
    if not entities:
        raise said(f"empty; list at least one of: {choices(KNOWN_ENTITIES)}")
    problems = [
        f"{e!r} is not an entity; use any of: {choices(KNOWN_ENTITIES)}"
        if e not in KNOWN_ENTITIES
        else f"{e!r} is listed twice; list it once"
        for i, e in enumerate(entities)
        if e not in KNOWN_ENTITIES or e in entities[:i]
    ]
    if problems:
        raise said_at((), *problems)
    companies = [e for e in entities if e in COMPANY_ENTITIES]
    if not companies:
        raise said(
            "contacts follow their company: list customer or supplier too, as in "
            '["customer", "supplier", "contact"]'
        )
    # A cycle of contacts finds their companies linked when the companies go first.
    return companies + [e for e in entities if e not in COMPANY_ENTITIES]


class SyncTable(Table):
    """[sync]: what is synced, with which mapping files and rules."""

    entities: Annotated[
        list[str],
        Hint(wanted=f"an array of entity names, like {list(DEFAULT_ENTITIES)}"),
        AfterValidator(_entities),
    ] = Field(default_factory=lambda: list(DEFAULT_ENTITIES))
    mappings: PathText | None = None
    conflict: Annotated[ConflictRule, BeforeValidator(one_of(ConflictRule))] = _RULES.conflict
    newest_tie: Annotated[Side, BeforeValidator(one_of(Side))] = _RULES.newest_tie
    blank_overwrites: bool = _RULES.blank_overwrites
    deletes: Annotated[DeletePolicy, BeforeValidator(one_of(DeletePolicy))] = _RULES.deletes
    create_in_crm: bool = _RULES.create_in_crm
    create_in_afas: bool = _RULES.create_in_afas
    review_first: bool = _RULES.review_first
    write_correlation_keys: bool = _RULES.write_correlation_keys
    overlap_seconds: Seconds = 300
    guards: GuardsTable = GuardsTable()

    def rules(self) -> SyncRules:
        rules = self.model_dump(exclude={"entities", "mappings", "overlap_seconds", "guards"})
        return SyncRules(**rules, guards=self.guards.guards())


def _gateway(side: Side) -> Callable[[object, ValidationInfo], GatewaySettings]:
    """The validator of a connection's ``crm``/``afas`` table: its kind picks the model
    its options are validated with."""

    def gateway(table: object, info: ValidationInfo) -> GatewaySettings:
        kinds: Mapping[str, GatewayKind] = _context(info).get("kinds", {})
        allowed = choices(name for name, kind in kinds.items() if side in kind.sides)
        if table is None:
            raise said(f'missing; add {side} = {{ kind = "..." }} (kinds: {allowed})')
        if not isinstance(table, dict):
            raise said(f'expected a table like {{ kind = "memory" }}, got {describe(table)}')
        name = table.get("kind")
        if not isinstance(name, str):
            got = "nothing" if name is None else describe(name)
            raise said_at(("kind",), f"expected a gateway kind ({allowed}), got {got}")
        kind = kinds.get(name)
        if kind is None or side not in kind.sides:
            message = f"{name!r} is not a {side} gateway kind; allowed kinds: {allowed}"
            raise said_at(("kind",), message)
        current = {key: value for key, value in table.items() if key not in kind.options.retired}
        try:
            options = kind.options.model_validate(current, context=info.context)
        except ValidationError as exc:
            raise restated(exc, kind.options) from None
        return GatewaySettings(name, options)

    return gateway


def _public_url(url: str) -> str:
    """The URL HubSpot calls: https, but for a receiver on this machine (tests, demo)."""
    parts = urlsplit(url.strip())
    local = parts.scheme == "http" and parts.hostname in _LOOPBACK
    if (parts.scheme != "https" and not local) or not parts.hostname:
        raise said(
            f"expected the https URL HubSpot calls, as set in the app's webhook settings "
            f'(like "https://sync.example.com/hubspot/webhooks/main"), got {describe(url)}'
        )
    return url.strip()


class ConnectionWebhooksTable(Table):
    """[connections.<name>.webhooks]: HubSpot calls syncd when records change."""

    public_url: Annotated[
        str, Hint(wanted="the https URL HubSpot calls"), AfterValidator(_public_url)
    ]
    client_secret_env: SecretFromEnv


def _client_id(value: str) -> str:
    if not value.strip():
        raise said("expected the HubSpot app's client id (its Auth settings show it)")
    return value.strip()


class ConnectionJournalTable(Table):
    """[connections.<name>.journal]: syncd pulls HubSpot's Webhooks Journal for hints."""

    # A poll when nothing happened is one request; HubSpot keeps entries three days.
    poll_seconds: Annotated[float, AfterValidator(within(1, 3600))] = 5.0
    # The journal answers the app's client-credentials token, not the portal's token.
    client_id: Annotated[str, AfterValidator(_client_id)]
    client_secret_env: SecretFromEnv


class ConnectionTable(Table):
    """[connections.<name>]: a CRM and an AFAS side synced together."""

    crm: Annotated[GatewaySettings, PlainValidator(_gateway(Side.CRM))] = Field(
        None, validate_default=True
    )
    afas: Annotated[GatewaySettings, PlainValidator(_gateway(Side.AFAS))] = Field(
        None, validate_default=True
    )
    fixture: PathText | None = None
    webhooks: ConnectionWebhooksTable | None = None  # off unless the table is there
    journal: ConnectionJournalTable | None = None  # off unless the table is there

    @model_validator(mode="after")
    def _hints_need_hubspot(self) -> ConnectionTable:
        whose = {"webhooks": "webhooks come from HubSpot", "journal": "the journal is HubSpot's"}
        for table, why in whose.items():
            if getattr(self, table) is not None and self.crm.kind != "hubspot":
                message = f'{why}: remove this table or use crm = {{ kind = "hubspot" }}'
                raise said_at((table,), message)
        return self

    @model_validator(mode="after")
    def _journal_names_its_portal(self) -> ConnectionTable:
        portal = getattr(self.crm.options, "portal_id", None) if self.crm else None
        if self.journal is not None and portal is None:
            message = (
                "the journal is read with the app's token, which names no portal: "
                "set portal_id in this connection's crm table"
            )
            raise said_at(("journal",), message)
        return self

    @model_validator(mode="after")
    def _fixture_needs_memory(self, info: ValidationInfo) -> ConnectionTable:
        kinds: Mapping[str, GatewayKind] = _context(info).get("kinds", {})
        sides = (kinds[self.crm.kind], kinds[self.afas.kind])
        if self.fixture is not None and not any(kind.uses_fixture for kind in sides):
            message = 'only memory gateways read a fixture; remove it or use kind = "memory"'
            raise said_at(("fixture",), message)
        return self


def _connection_name(name: str) -> str:
    if not _CONNECTION_NAME.fullmatch(name):
        raise said("use letters, digits, _ and - for a connection name")
    return name


def _some_connections(connections: dict[str, ConnectionTable]) -> dict[str, ConnectionTable]:
    if not connections:
        raise said("no connections; add a [connections.<name>] table")
    return connections


class DaemonTable(Table):
    """[daemon]: how ``syncd run`` schedules cycles and stops."""

    interval_seconds: Seconds = 60
    jitter_seconds: Seconds = 10
    full_sweep_cron: str = "30 3 * * *"
    shutdown_grace_seconds: Seconds = 30
    max_backoff_seconds: Seconds = 15 * 60
    # Replicas on a PostgreSQL store (see syncd.lease): how often a replica checks its
    # leases and claims free lanes, and how long the server waits for a silent replica.
    lease_check_seconds: Seconds = 5
    lease_timeout_seconds: Seconds = 30
    # Adaptive polling (syncd.polling): after a cycle that changed something, the lane
    # polls every busy_interval_seconds (default: a quarter of interval_seconds, not
    # below AFAS's fair-use floor) until busy_for_seconds have passed without a change.
    busy_interval_seconds: Seconds | None = None
    busy_for_seconds: Seconds = 300

    def busy_interval(self) -> float:
        """The busy interval in seconds: as set, or a quarter of the quiet one."""
        if self.busy_interval_seconds is not None:
            return self.busy_interval_seconds
        floor = FAIR_USE_FLOOR.total_seconds()
        return min(self.interval_seconds, max(self.interval_seconds / 4, floor))

    @field_validator("full_sweep_cron")
    @classmethod
    def _crontab(cls, cron: str) -> str:
        reason = crontab_problem(cron)
        if reason is not None:
            raise said(
                f"{cron!r} is not a crontab expression ({reason}); use five fields, "
                'e.g. "30 3 * * *" for 03:30 UTC every day'
            )
        return cron

    @field_validator("interval_seconds", "lease_check_seconds")
    @classmethod
    def _a_second_at_least(cls, seconds: float) -> float:
        if seconds < 1:
            raise said("must be at least 1 second")
        return seconds

    @field_validator("busy_interval_seconds")
    @classmethod
    def _not_below_fair_use(cls, seconds: float | None) -> float | None:
        floor = FAIR_USE_FLOOR.total_seconds()
        if seconds is not None and seconds < floor:
            raise said(
                f"must be at least {floor:g} seconds: polling AFAS faster risks its fair-use "
                "block; raise it, or leave it out for a quarter of interval_seconds"
            )
        return seconds

    @model_validator(mode="after")
    def _busy_not_slower(self) -> DaemonTable:
        busy = self.busy_interval_seconds
        if busy is not None and busy > self.interval_seconds:
            message = "must not exceed interval_seconds (busy lanes poll sooner, not later)"
            raise said_at(("busy_interval_seconds",), message)
        return self

    @model_validator(mode="after")
    def _lease_timeout(self) -> DaemonTable:
        # A replica must notice a broken lease connection (within two checks) before
        # the server gives its leases to another replica.
        if self.lease_timeout_seconds < 3 * self.lease_check_seconds:
            message = "must be at least 3 times lease_check_seconds"
            raise said_at(("lease_timeout_seconds",), message)
        return self


def _operator_name(name: str) -> str:
    if not name.strip() or len(name) > 60:
        raise said("name an operator as status events should (1 to 60 characters)")
    return name.strip()


def _status_token(variable: object, info: ValidationInfo) -> Secret:
    """The token the status server requires, from the variable ``token_env`` names."""
    problem = variable_name_problem(variable)
    if problem is not None:
        raise said(problem)
    env: Mapping[str, str] = _context(info).get("env", {})
    if not isinstance(variable, str) or not env.get(variable):
        raise said(
            f"environment variable {variable!r} is not set; set it to the token the "
            "status server must require"
        )
    return Secret(variable, env[variable])


class StatusTable(Table):
    """[status]: the HTTP status server of ``syncd run``."""

    enabled: bool = True
    host: Annotated[str, Hint(wanted='an address such as "127.0.0.1"')] = "127.0.0.1"
    port: Annotated[int, AfterValidator(within(0, 65535, whole=True))] = 8686
    token_env: Annotated[Secret | None, PlainValidator(_status_token)] = None
    # The page's buttons (resolve, retry, drop, confirm): off unless switched on.
    actions: bool = False
    # Who acts from the page, as status events name them (with the client's address).
    operator: str = "status page"
    # People with a token of their own: name = variable holding it; events name them.
    operators: dict[
        Annotated[str, AfterValidator(_operator_name)],
        Annotated[Secret, PlainValidator(_status_token)],
    ] = Field(default_factory=dict)

    @field_validator("host")
    @classmethod
    def _host(cls, host: str) -> str:
        if not host:
            raise said(f'expected an address such as "127.0.0.1", got {describe(host)}')
        return host

    @model_validator(mode="after")
    def _token_off_loopback(self) -> StatusTable:
        if self.enabled and self.host not in _LOOPBACK and self.token_env is None:
            raise said_at(
                ("host",),
                f"the status server binds {self.host!r}, reachable from other machines: set "
                "status.token_env to an environment variable holding a token it will require",
            )
        return self

    @model_validator(mode="after")
    def _operators_beside_the_token(self) -> StatusTable:
        # The page's own token stays: scripts use it, and it keys the forms' CSRF tokens.
        if self.operators and self.token_env is None:
            raise said_at(
                ("operators",),
                "operators sign in beside the page's own token: set status.token_env too",
            )
        tokens = [secret.value for secret in self.operators.values()]
        if self.token_env is not None:
            tokens.append(self.token_env.value)
        if len(set(tokens)) < len(tokens):
            raise said_at(("operators",), "give every operator a token of their own")
        return self

    @model_validator(mode="after")
    def _token_for_actions(self) -> StatusTable:
        # The page's buttons change both systems: never without a token, even on loopback.
        if self.enabled and self.actions and self.token_env is None:
            raise said_at(
                ("actions",),
                "the status page's actions change both systems: set status.token_env to an "
                "environment variable holding a token they will require, or actions = false",
            )
        return self


class WebhooksTable(Table):
    """[webhooks]: where ``syncd run`` takes HubSpot's webhook calls (behind a proxy)."""

    host: Annotated[str, Hint(wanted='an address such as "127.0.0.1"')] = "127.0.0.1"
    port: Annotated[int, AfterValidator(within(0, 65535, whole=True))] = 8687
    # Calls that come within this long of each other are read in one hinted cycle.
    gather_seconds: Annotated[float, AfterValidator(within(0, 60))] = 1.0


class ConfigFile(Table):
    """config.toml as written (paths still relative to the file)."""

    data_dir: PathText | None = None
    state: StateTable = StateTable()
    sync: SyncTable = SyncTable()
    daemon: DaemonTable = DaemonTable()
    status: StatusTable = StatusTable()
    webhooks: WebhooksTable = WebhooksTable()
    connections: Annotated[
        dict[Annotated[str, AfterValidator(_connection_name)], ConnectionTable],
        Hint(
            wanted="tables [connections.<name>]",
            missing='add a [connections.<name>] table with crm = { kind = "..." } '
            'and afas = { kind = "..." }',
        ),
        AfterValidator(_some_connections),
    ]
