"""Journal polls: for each connection with ``[connections.<name>.journal]``, an
apscheduler job that reads HubSpot's Webhooks Journal every ``poll_seconds`` and queues
the ids it names as the lanes' hints, as a webhook call's would be. It needs no inbound
port. A replica polls only the connections it holds a lane of, so that the offset it
moves is for hints it will follow."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from syncd.clock import utc_now
from syncd.config.settings import ConnectionJournal
from syncd.daemon.lanes import OpenConnection
from syncd.engine.hints import Hints
from syncd.errors import SyncdError
from syncd.gateways.hubspot.app_token import AppCredentials
from syncd.gateways.hubspot.gateway import HubSpotGateway
from syncd.gateways.hubspot.journal import JournalReader, JournalStore
from syncd.records import Side
from syncd.webhooks.receiver import queue_hinted

LOG = logging.getLogger(__name__)


def journal_job(connection: str) -> str:
    return f"journal:{connection}"


@dataclass(frozen=True)
class JournalPolls:
    hints: Hints
    may_poll: Callable[[OpenConnection], bool]  # holds a lane of it (replicas)

    def add(self, scheduler: AsyncIOScheduler, opened: OpenConnection) -> None:
        """Schedule the connection's journal poll, when it has one."""
        journal = opened.settings.journal
        reader = self._reader(opened, journal) if journal is not None else None
        if journal is None or reader is None:
            return
        scheduler.add_job(
            self._poll,
            IntervalTrigger(seconds=journal.poll.total_seconds()),
            args=[opened, reader],
            id=journal_job(opened.settings.name),
            next_run_time=utc_now(),
            max_instances=1,
            coalesce=True,
        )

    def remove(self, scheduler: AsyncIOScheduler | None, connection: str) -> None:
        with contextlib.suppress(JobLookupError):
            if scheduler is not None:
                scheduler.remove_job(journal_job(connection))

    def _reader(self, opened: OpenConnection, journal: ConnectionJournal) -> JournalReader | None:
        if not opened.lanes:
            return None
        conn = opened.lanes[0].conn
        gateway = conn.gateways.get(Side.CRM)
        if not isinstance(gateway, HubSpotGateway):
            return None
        name, store = conn.name, conn.store
        offsets = JournalStore(
            functools.partial(store.get_journal_offset, name),
            functools.partial(store.set_journal_offset, name),
        )
        app = AppCredentials(journal.client_id, journal.client_secret.value, journal.portal_id)
        hint = functools.partial(queue_hinted, self.hints, name)
        return gateway.journal_reader(app, offsets, hint)

    async def _poll(self, opened: OpenConnection, reader: JournalReader) -> None:
        if not self.may_poll(opened):
            return
        try:
            await reader.poll()
        except SyncdError as error:  # the next poll tries again; polling is the safety net
            LOG.warning("%s: reading HubSpot's journal failed: %s", opened.settings.name, error)
