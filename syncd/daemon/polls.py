"""When each lane polls next: sooner while it is busy (:mod:`syncd.polling`), a random
part of the jitter later, and at once when this replica takes it over."""

from __future__ import annotations

from datetime import datetime, timedelta

from syncd.clock import utc_now
from syncd.daemon.lanes import Lane, incremental_job
from syncd.daemon.parts import DaemonState
from syncd.polling import next_poll_delay


class PollScheduling(DaemonState):
    """Moving a lane's next incremental cycle in the scheduler."""

    def next_poll(self, lane: Lane) -> datetime:
        """When ``lane``'s next incremental cycle is due: sooner while it is busy, and a
        random part of the jitter later."""
        now = self.clock()
        return (
            now + next_poll_delay(lane.last_change, now, self.settings.daemon.pace) + self._jitter()
        )

    def _jitter(self) -> timedelta:
        """Up to ``jitter_seconds``: lanes started together (all of them, as the daemon
        starts) would otherwise poll together for ever, a burst of cycles each interval
        that keeps the lanes at its end waiting."""
        return self.settings.daemon.jitter * self.random.random()

    def _poll_next(self, lane: Lane, *, may_postpone: bool) -> None:
        """Schedule ``lane``'s next poll. After a hinted cycle it may only come sooner:
        polling is the safety net and the only way AFAS's changes are found, so webhook
        calls that keep coming must not keep putting it off."""
        job = self.scheduler.get_job(incremental_job(lane)) if self.scheduler else None
        if job is None:
            return
        due = self.next_poll(lane)
        if may_postpone or job.next_run_time is None or due < job.next_run_time:
            job.modify(next_run_time=due)

    def _poll_soon(self, lane: Lane) -> None:
        """A lane taken over from another replica polls within the jitter, not when this
        replica's schedule of it (polls skipped while another held it) comes round: that
        was up to an interval more, after the other replica's last cycle."""
        job = self.scheduler.get_job(incremental_job(lane)) if self.scheduler else None
        if job is None:
            return
        due = utc_now() + self._jitter()
        if job.next_run_time is None or due < job.next_run_time:
            job.modify(next_run_time=due)
