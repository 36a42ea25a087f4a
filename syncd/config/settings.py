"""The settings syncd runs with: what config.toml and the mapping files say, validated,
with paths resolved and the environment's overrides and secrets read in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from syncd.gateways.options import GatewaySettings, Secret
from syncd.mapping import EntityMapping
from syncd.policy import SyncRules
from syncd.polling import PollPace
from syncd.records import Side
from syncd.state.url import redact_url

__all__ = [
    "ConnectionSettings",
    "ConnectionWebhooks",
    "DaemonSettings",
    "Settings",
    "StatusSettings",
    "WebhooksSettings",
]


@dataclass(frozen=True)
class ConnectionWebhooks:
    """How HubSpot's webhook calls for one connection are checked."""

    public_url: str  # the URL HubSpot calls and signs
    client_secret: Secret  # the app's client secret, from the environment


@dataclass(frozen=True)
class ConnectionJournal:
    """How HubSpot's Webhooks Journal is read for one connection."""

    poll: timedelta  # how often
    client_id: str  # the app's, for its client-credentials token
    client_secret: Secret  # the app's client secret, from the environment
    portal_id: int  # the portal whose journal it is (installPortalId)


@dataclass(frozen=True)
class ConnectionSettings:
    """A CRM portal and an AFAS environment synced together."""

    name: str
    crm: GatewaySettings
    afas: GatewaySettings
    fixture: Path | None  # JSON file of both in-memory systems, for kind = "memory"
    webhooks: ConnectionWebhooks | None = None  # None: no webhooks, polling alone
    journal: ConnectionJournal | None = None  # None: the Webhooks Journal is not read

    def side(self, side: Side) -> GatewaySettings:
        return self.crm if side is Side.CRM else self.afas


@dataclass(frozen=True)
class DaemonSettings:
    """How ``syncd run`` schedules cycles and stops."""

    interval: timedelta
    jitter: timedelta
    full_sweep_cron: str
    shutdown_grace: timedelta
    max_backoff: timedelta
    lease_check: timedelta  # replicas: how often a replica checks its leases
    lease_timeout: timedelta  # and how long the server waits for a silent replica
    replica: str | None  # from $SYNCD_REPLICA; None: host name and process id
    # Adaptive polling (syncd.polling): sooner after a change, for a while.
    busy_interval: timedelta = timedelta(seconds=15)
    busy_for: timedelta = timedelta(minutes=5)

    @property
    def pace(self) -> PollPace:
        return PollPace(self.interval, self.busy_interval, self.busy_for)


@dataclass(frozen=True)
class StatusSettings:
    """The HTTP status server of ``syncd run``."""

    enabled: bool
    host: str
    port: int
    token: Secret | None
    actions: bool = False  # the page's buttons; they always require the token
    operator: str = "status page"  # who acts from the page, in status events
    # People who sign in with a token of their own, by the name events give them.
    operators: Mapping[str, Secret] = field(default_factory=dict)


@dataclass(frozen=True)
class WebhooksSettings:
    """Where ``syncd run`` listens for HubSpot's webhook calls (when a connection takes them)."""

    host: str = "127.0.0.1"
    port: int = 8687
    gather: timedelta = timedelta(seconds=1)  # calls this close together: one hinted cycle


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
    daemon: DaemonSettings
    status: StatusSettings
    webhooks: WebhooksSettings = WebhooksSettings()

    def __repr__(self) -> str:
        return (
            f"Settings(source={str(self.source)!r}, data_dir={str(self.data_dir)!r}, "
            f"state_url={redact_url(self.state_url)!r}, entities={self.entities!r}, "
            f"connections={[c.name for c in self.connections]!r})"
        )
