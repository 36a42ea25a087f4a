"""The HTTP status surface of ``syncd run``: health, readiness, metrics, status, a page.

``/healthz``  the process answers (liveness)
``/readyz``   200 when every connection and entity's last cycle went well, else 503
``/metrics``  Prometheus text format (:mod:`syncd.status.metrics`)
``/status``   the health of every connection and entity, as JSON
``/``         a small server-rendered page: health, what runs now, the last day's
              changes and requests per hour (charts), the daily request budget, recent
              cycles, open conflicts
``/conflicts`` ``/quarantine`` ``/guards`` ``/history?q=``  the console of an office
              (:mod:`syncd.status.office`): read-only unless ``[status] actions`` is on

It binds 127.0.0.1 by default. Bound to any other address it requires a token (from the
environment), sent as ``Authorization: Bearer <token>`` or ``?token=``, or given once in
the sign-in form a browser gets (:mod:`syncd.status.signin`).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from syncd.clock import utc_now
from syncd.events import EventName
from syncd.mapping import EntityMapping
from syncd.state.rows import Conflict, RunningWork, StatusEvent
from syncd.state.store import StateStore
from syncd.status.activity import LaneDay, by_hour, day_start
from syncd.status.charts import STYLE as CHART_STYLE
from syncd.status.charts import budget_section, day_section, running_section
from syncd.status.desk import Desk
from syncd.status.metrics import Metrics, newest_budgets
from syncd.status.office import add_office
from syncd.status.pages import nav
from syncd.status.record_lookup import link_refs
from syncd.status.record_names import HubSpotPages, cell_html
from syncd.status.running import STALE
from syncd.status.signin import token_required
from syncd.status.views import EntityHealth, Lane, lanes_health, polled_text

LOOPBACK = ("127.0.0.1", "::1", "localhost")


class StatusSource:
    """What the pages show, read from the state store on each request; and from the
    daemon, the cycles of its lanes that failed in a row (``failing``); ``pages``: per
    connection, where its HubSpot portal shows records (links from the page to them)."""

    def __init__(
        self,
        store: StateStore,
        lanes: Sequence[Lane],
        interval: timedelta | None = None,
        failing: Callable[[], Mapping[Lane, int]] | None = None,
        clock: Callable[[], datetime] = utc_now,
        pages: Mapping[str, HubSpotPages] | None = None,
        mappings: Mapping[str, EntityMapping] | None = None,
    ) -> None:
        self.store = store
        self.lanes = lanes
        self.interval = interval
        self._failing = failing
        self.clock = clock
        self.pages = pages or {}
        self.mappings = mappings or {}

    def failed_in_a_row(self) -> Mapping[Lane, int]:
        return self._failing() if self._failing else {}

    async def health(self) -> list[EntityHealth]:
        return await lanes_health(self.store, self.lanes, self.interval)

    async def recent_cycles(self, limit: int = 20) -> list[StatusEvent]:
        names = [str(EventName.CYCLE_FINISHED), str(EventName.CYCLE_FAILED)]
        found = await self.store.events(names=names, limit=limit, newest=True)
        return found[::-1]

    async def conflicts(self) -> list[Conflict]:
        return await self.store.conflicts()

    async def last_day(self) -> list[LaneDay]:
        """Each lane's changes and requests per hour over the last 24 hours: one read of
        the day's finished cycles."""
        now = self.clock()
        finished = await self.store.events_since(day_start(now), [str(EventName.CYCLE_FINISHED)])
        return by_hour(finished, self.lanes, now)

    async def running(self) -> list[RunningWork]:
        """The long work under way in every process sharing the store (this one, other
        replicas, ``syncd once``, ``syncd match --plan``), leaving out what died."""
        return await self.store.running_work(heard_since=self.clock() - STALE)

    async def records_of(self, conflicts: Sequence[Conflict]) -> dict[int, str]:
        """Each conflict's record as HTML: its name and both ids, by conflict id."""
        refs = await link_refs(self.store, [c.link_id for c in conflicts])
        return {
            c.id: cell_html(refs[c.link_id], self.pages.get(c.connection, HubSpotPages()))
            for c in conflicts
            if c.id is not None and c.link_id in refs
        }


def make_app(
    source: StatusSource,
    *,
    token: str | None = None,
    desk: Desk | None = None,
    operators: Mapping[str, str] | None = None,
) -> web.Application:
    """The status server; with a ``desk`` (``[status] actions``) the page can act, and
    then a token is required for every request, on loopback too. ``operators``: people
    with a token of their own (name to token), named in the events of what they do."""
    middlewares = [token_required(token, operators)] if token else []
    app = web.Application(middlewares=middlewares)  # type: ignore[arg-type]
    add_office(
        app, source.store, source.lanes, desk, token, pages=source.pages, mappings=source.mappings
    )
    metrics = Metrics()

    async def start_counting(_: web.Application) -> None:
        await metrics.start(source)

    app.on_startup.append(start_counting)

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(_: web.Request) -> web.Response:
        rows = await source.health()
        bad = [f"{h.connection}/{h.entity}: {h.last_outcome}" for h in rows if not h.healthy]
        return web.Response(status=503 if bad else 200, text="\n".join(bad or ["ready"]) + "\n")

    async def status(_: web.Request) -> web.Response:
        return web.json_response([h.as_dict() for h in await source.health()])

    async def prometheus(_: web.Request) -> web.Response:
        body = await metrics.scrape(source)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def page(_: web.Request) -> web.Response:
        conflicts = await source.conflicts()
        body = render_page(
            await source.health(),
            await source.recent_cycles(),
            conflicts,
            Pictures(await source.running(), await source.last_day(), source.clock()),
            await source.records_of(conflicts),
        )
        return web.Response(text=body, content_type="text/html")

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/status", status)
    app.router.add_get("/metrics", prometheus)
    app.router.add_get("/", page)
    return app


# --- the page ---------------------------------------------------------------------------

_STYLE = """
body{font:15px/1.4 system-ui,sans-serif;margin:2rem;color:#222}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse}
nav a{margin-right:1rem}
td,th{padding:.3rem .8rem;border-bottom:1px solid #ddd;text-align:left}
.ok{color:#176a2c;font-weight:600}.bad{color:#a11;font-weight:600}.num{text-align:right}
"""


@dataclass(frozen=True)
class Pictures:
    """What the page draws besides its tables (:mod:`syncd.status.charts`)."""

    running: Sequence[RunningWork] = ()
    last_day: Sequence[LaneDay] = ()
    now: datetime | None = None


def render_page(
    rows: Sequence[EntityHealth],
    cycles: Sequence[StatusEvent],
    conflicts: Sequence[Conflict],
    pictures: Pictures = Pictures(),
    records: Mapping[int, str] | None = None,
) -> str:
    """``records``: each conflict's record as HTML, by conflict id."""
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>syncd status</title>"
        f"<style>{_STYLE}{CHART_STYLE}</style></head><body><h1>syncd</h1>"
        + _health_table(rows)
        + running_section(pictures.running, pictures.now or utc_now())
        + _in_doubt_list(rows)
        + day_section(pictures.last_day)
        + budget_section(newest_budgets(rows))
        + _cycles_table(cycles)
        + _conflicts_table(conflicts, records or {})
        + nav()
        + "</body></html>"
    )


def _escape(value: object) -> str:
    return html.escape(str(value))


def _format_time(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC") if at else "never"


def _state_cell(health: EntityHealth) -> str:
    if health.last_cycle is None and health.last_poll is None:
        return "<td>no cycle yet</td>"
    if health.healthy:
        return "<td class='ok'>in sync</td>"
    return f"<td class='bad'>{_escape(health.last_outcome)}</td>"


def _last_cycle_text(health: EntityHealth) -> str:
    """When the lane last ran: its last cycle, and its last quiet poll after that."""
    return _format_time(health.last_cycle) + polled_text(health)


def _health_table(rows: Sequence[EntityHealth]) -> str:
    body = "".join(
        f"<tr><td>{_escape(h.connection)}</td><td>{_escape(h.entity)}</td>{_state_cell(h)}"
        f"<td class='num'>{h.linked}</td><td class='num'>{h.conflicts}</td>"
        f"<td class='num'>{h.quarantined}</td><td>{_escape(_last_cycle_text(h))}</td></tr>"
        for h in rows
    )
    return (
        "<h2>Health</h2><table><tr><th>connection</th><th>entity</th><th>state</th>"
        "<th>linked</th><th>conflicts</th><th>quarantined</th><th>last cycle</th></tr>"
        f"{body}</table>"
    )


def _in_doubt_list(rows: Sequence[EntityHealth]) -> str:
    """Creates whose outcome is unknown: their sources are not synced until settled."""
    items = "".join(
        f"<li>{_escape(h.connection)}/{_escape(h.entity)}: {_escape(d.as_text())}</li>"
        for h in rows
        for d in h.in_doubt
    )
    return f"<h2>Writes in doubt</h2><ul>{items}</ul>" if items else ""


def _cycles_table(cycles: Sequence[StatusEvent]) -> str:
    def summary(event: StatusEvent) -> str:
        counts = event.data.get("counts") or {}
        text = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "no changes"
        return str(event.data.get("error") or text)

    rows = "".join(
        f"<tr><td>{_escape(_format_time(e.at))}</td><td>{_escape(e.connection)}/{_escape(e.entity)}</td>"
        f"<td>{_escape(e.name)}</td><td>{_escape(summary(e))}</td></tr>"
        for e in cycles
    )
    return (
        "<h2>Recent cycles</h2><table><tr><th>at</th><th>where</th><th>outcome</th>"
        f"<th>what</th></tr>{rows}</table>"
    )


def _conflicts_table(conflicts: Sequence[Conflict], records: Mapping[int, str]) -> str:
    """``records``: HTML already, escaped where it holds text (names, ids)."""
    body = "".join(
        f"<tr><td>#{c.id}</td><td>{_escape(c.connection)}/{_escape(c.entity)}</td>"
        f"<td>{records.get(c.id or 0, '')}</td><td>{_escape(c.field)}</td>"
        f"<td>{_escape(c.crm)}</td><td>{_escape(c.afas)}</td></tr>"
        for c in conflicts
    )
    empty = "" if conflicts else "<p>No open conflicts.</p>"
    return (
        f"<h2>Open conflicts ({len(conflicts)})</h2>{empty}<table><tr><th>id</th><th>where</th>"
        f"<th>record</th><th>field</th><th>crm</th><th>afas</th></tr>{body}</table>"
    )
