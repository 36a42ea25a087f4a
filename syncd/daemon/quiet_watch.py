"""The daemon's side of quiet polls (:mod:`syncd.engine.speed.quiet`).

A quiet poll writes nothing to the state store. The daemon tells the log about it at
once, and the store a batch at a time (every ``FLUSH_EVERY``: one write for all lanes),
so that ``syncd status`` and the page still show when each lane last polled.

It also watches the store for what quiet polls cannot see: every ``WATCH_EVERY`` it copies
the new status events to the log (as each whole cycle's end does), and an event of a
connection that is not a cycle's start or end (an operator's action, a replica's lease,
a record another lane wrote) makes each of the connection's lanes run its next poll as a
whole cycle. A store that cannot be read disturbs every connection.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from syncd.daemon.lanes import Lane
from syncd.daemon.parts import DaemonState
from syncd.errors import StateError
from syncd.events import EventName
from syncd.state.rows import LanePoll, StatusEvent

LOG = logging.getLogger(__name__)
WATCH_EVERY = timedelta(seconds=1)
FLUSH_EVERY = timedelta(seconds=10)
# A cycle's start and end say nothing that the connection's other lanes must look at.
UNDISTURBING = frozenset({str(EventName.CYCLE_STARTED), str(EventName.CYCLE_FINISHED)})


class QuietPolls:
    """Quiet polls not yet written to the store, per lane: the newest and how many."""

    def __init__(self) -> None:
        self._unwritten: dict[tuple[str, str], LanePoll] = {}

    def add(self, poll: LanePoll) -> None:
        key = (poll.connection, poll.entity)
        earlier = self._unwritten.get(key)
        polls = poll.polls + (earlier.polls if earlier else 0)
        self._unwritten[key] = LanePoll(poll.connection, poll.entity, poll.at, polls)

    def take(self) -> list[LanePoll]:
        taken, self._unwritten = list(self._unwritten.values()), {}
        return taken

    def give_back(self, polls: Iterable[LanePoll]) -> None:
        """Polls whose write failed: written with the next batch."""
        for poll in polls:
            self.add(poll)


class QuietWatching(DaemonState):
    """Quiet polls noted, written in batches, and disturbed by what the store shows."""

    quiet_polls: QuietPolls

    def _note_quiet_poll(self, lane: Lane) -> None:
        poll = LanePoll(lane.conn.name, lane.entity, self.clock())
        self.log.note(StatusEvent(poll.connection, poll.entity, EventName.POLL_QUIET, at=poll.at))
        self.quiet_polls.add(poll)

    async def _watch_store(self) -> None:
        """The scheduler's job: copy new events to the log, disturbing as they say."""
        try:
            await self._copy_events_to_log()
        except StateError as error:
            LOG.warning("cannot read the status events: every lane polls whole (%s)", error)
            for lane in self.lanes:
                self._forget_quiet(lane)

    async def _flush_quiet_polls(self) -> None:
        """The scheduler's job: the quiet polls since the last flush, in one write."""
        polls = self.quiet_polls.take()
        store = self.store
        if not polls or store is None:
            return
        try:
            async with store.transaction() as tx:
                await tx.record_polls(polls)
        except StateError as error:
            LOG.warning("cannot record %d lanes' quiet polls, kept: %s", len(polls), error)
            self.quiet_polls.give_back(polls)

    def _disturb(self, events: Iterable[StatusEvent]) -> None:
        """Connections with events that quiet polls cannot see past."""
        disturbed = {e.connection for e in events if e.connection and e.name not in UNDISTURBING}
        for lane in self.lanes:
            if lane.conn.name in disturbed:
                self._forget_quiet(lane)

    @staticmethod
    def _forget_quiet(lane: Lane) -> None:
        if lane.conn.quiet is not None:
            lane.conn.quiet.disturb()
