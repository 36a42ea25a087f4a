"""The daemon's status server and status log: what it shows, and the page's actions."""

from __future__ import annotations

import sys
from contextlib import AsyncExitStack

from aiohttp import web

from syncd.daemon.parts import DaemonState
from syncd.state.store import StateStore
from syncd.status.desk import Desk
from syncd.status.record_lookup import hubspot_pages
from syncd.status.server import StatusSource, make_app

LOG_PAGE = 1000  # events copied to the status log a query


class StatusServing(DaemonState):
    """The status server over the lanes, and the events copied to the status log."""

    def failed_in_a_row(self) -> dict[tuple[str, str], int]:
        """Per lane this replica holds, its cycles that failed since its last good one."""
        return {
            (lane.conn.name, lane.entity): lane.backoff.failures
            for lane in self.lanes
            if self._holds_lease(lane)
        }

    async def _serve_status(self, stack: AsyncExitStack) -> None:
        config = self.settings.status
        store = self._events_store()
        if not config.enabled or store is None:
            return
        source = StatusSource(
            store,
            self.shown,
            self.settings.daemon.interval,
            self.failed_in_a_row,
            pages=self.pages,
            mappings=self.page_mappings,
        )
        token = config.token.value if config.token else None
        desk = self._desk() if config.actions else None
        operators = {name: secret.value for name, secret in config.operators.items()}
        app = make_app(source, token=token, desk=desk, operators=operators)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        await web.TCPSite(runner, config.host, config.port).start()
        for host, port, *_ in runner.addresses:  # port 0 binds any free port: say which
            where = f"[{host}]" if ":" in host else host
            print(f"syncd: status server on http://{where}:{port}/", file=sys.stderr, flush=True)

    def _desk(self) -> Desk:
        """What the status page's buttons act on: the lanes' connections, each conflict
        settled while its lane is held."""

        def saved(connection: str) -> None:
            opened = self.opened.get(connection)
            kept = opened.lanes[0].systems if opened and opened.lanes else None
            if kept is not None:
                kept.save()

        return Desk(
            connections=self.desk_connections,
            operator=self.settings.status.operator,
            lane_locks=self.desk_locks,
            saved=saved,
        )

    def _show_lanes(self) -> None:
        """Tell the status server (its lists are shared) what the lanes are now."""
        self.shown[:] = [(lane.conn.name, lane.entity) for lane in self.lanes]
        self.desk_connections.clear()
        self.desk_connections.update({lane.conn.name: lane.conn for lane in self.lanes})
        self.desk_locks.clear()
        self.desk_locks.update({(lane.conn.name, lane.entity): lane.lock for lane in self.lanes})
        self.pages.clear()
        self.pages.update(
            {n: hubspot_pages(self.settings, c.settings) for n, c in self.opened.items()}
        )
        self.page_mappings.clear()
        self.page_mappings.update(self.settings.mappings)

    def _events_store(self) -> StateStore | None:
        if self.store is not None:
            return self.store
        return self.lanes[0].conn.store if self.lanes else None

    async def _catch_up_log(self) -> None:
        """Go on after the last event in the log file; with no file yet, after the newest
        event in the store (the history is not repeated into a new file)."""
        logged = self.log.last_logged_id()
        store = self._events_store()
        if store is not None:
            newest = await store.events(limit=1, newest=True)
            in_store = (newest[-1].id or 0) if newest else 0
            self.log.last_id = in_store if logged is None else min(logged, in_store)

    async def _copy_events_to_log(self) -> None:
        store = self._events_store()
        if store is None:
            return
        # Every cycle's end asks, so a short page ends it without one more (empty) query:
        # with many lanes, that query was a large part of an idle cycle's cost.
        while page := await store.events(after_id=self.log.last_id, limit=LOG_PAGE):
            self.log.write(page)
            self._disturb(page)
            if len(page) < LOG_PAGE:
                break
