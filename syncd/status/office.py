"""The status page's console routes: conflicts, quarantine, guards, a record's history,
and, with ``[status] actions`` on, the POSTs of their buttons, one record's or, for all
the records a filter shows, in bulk (:mod:`syncd.status.bulk`).

Safe by default: without a :class:`~syncd.status.desk.Desk` the pages are read-only,
render no form, and every POST answers 403 naming ``[status] actions``. With one, the
server requires the token for every request (:func:`syncd.status.server.make_app`), and
each POST must come from the page's origin and carry the CSRF token of its form. After
an action on one record the browser is sent back to the page it came from (POST, then
redirect); a bulk action answers with its confirmation, then with what became of each.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence

from aiohttp import web
from yarl import URL

from syncd.clock import utc_now
from syncd.engine import guards
from syncd.engine.settle import (
    FilterError,
    SelectedConflict,
    conflict_matches,
    select_quarantined,
)
from syncd.errors import SyncdError
from syncd.mapping import EntityMapping
from syncd.records import Side
from syncd.state.rows import Conflict
from syncd.state.store import StateStore
from syncd.status import bulk_pages, csrf
from syncd.status.bulk import CONFLICT_BUTTONS, QUARANTINE_BUTTONS, BulkDesk, everything
from syncd.status.desk import Desk
from syncd.status.held_plans import plan_html
from syncd.status.pages import (
    Forms,
    GuardLane,
    Notice,
    RecordHistory,
    conflicts_page,
    guards_page,
    history_page,
    quarantine_page,
)
from syncd.status.pages import page as layout
from syncd.status.record_lookup import link_ref, link_refs, quarantine_refs
from syncd.status.record_names import HubSpotPages, RecordRef, as_text, cell_html
from syncd.status.signin import OPERATOR
from syncd.status.views import find_records, history

Lanes = Sequence[tuple[str, str]]
ACTIONS_OFF = (
    "the status page is read-only: its actions are off. To act from it, set "
    "[status] actions = true (with [status] token_env naming the token they require)\n"
)
NOT_FROM_THE_PAGE = (
    "refused: this request did not come from the status page itself (its Origin or "
    "Referer names another site, or neither is sent)\n"
)
BAD_CSRF = "refused: the form's CSRF token is missing or wrong; reload the page and try again\n"
# What a redirect after an action says, by the code it carries (never text from the URL).
DONE = {
    "resolved": "Conflict #{} settled.",
    "retry": "Record {} is due now: the next cycle tries it again.",
    "drop": "Record {} left the quarantine.",
    "confirmed": "Guards of {} confirmed: the next cycle applies a plan of this size.",
}


def add_office(
    app: web.Application,
    store: StateStore,
    lanes: Lanes,
    desk: Desk | None,
    token: str | None,
    pages: Mapping[str, HubSpotPages] | None = None,
    mappings: Mapping[str, EntityMapping] | None = None,
) -> None:
    """The console's pages on ``app``; actions only with a desk, which needs the token.
    ``pages``: per connection, where its HubSpot portal shows records; ``mappings``: to
    name a quarantined record by what could be read of it."""
    if desk is not None and not token:
        raise ValueError("the status page's actions require a token ([status] token_env)")
    office = _Office(store, lanes, desk, token or "", pages or {}, mappings or {})
    app.router.add_get("/conflicts", office.conflicts)
    app.router.add_get("/quarantine", office.quarantine)
    app.router.add_get("/guards", office.guards)
    app.router.add_get("/history", office.history)
    app.router.add_post("/conflicts/bulk", office.bulk_conflicts)
    app.router.add_post("/quarantine/bulk", office.bulk_quarantine)
    app.router.add_post("/conflicts/{id}/resolve", office.resolve)
    app.router.add_post("/quarantine/{action:retry|drop}", office.requeue)
    app.router.add_post("/guards/confirm", office.confirm)


class _Office:
    def __init__(
        self,
        store: StateStore,
        lanes: Lanes,
        desk: Desk | None,
        token: str,
        pages: Mapping[str, HubSpotPages],
        mappings: Mapping[str, EntityMapping],
    ) -> None:
        self.store = store
        self.lanes = lanes
        self.desk = desk
        self.token = token
        self.pages = pages
        self.mappings = mappings

    # --- pages ---------------------------------------------------------------------------

    async def conflicts(self, request: web.Request) -> web.Response:
        """The open conflicts the query's filter selects (all without one)."""
        query = dict(request.query)
        try:
            chosen = bulk_pages.page_filter(query, sides=False)
        except FilterError as error:
            return _bad_filter("/conflicts", error)
        conflicts = await self.store.conflicts(chosen.connection)
        refs = await link_refs(self.store, [c.link_id for c in conflicts])
        now = utc_now()
        found = [
            (c, cell_html(ref, self.pages.get(c.connection, HubSpotPages())) if ref else None)
            for c in conflicts
            for ref in [refs.get(c.link_id)]
            if conflict_matches(chosen, _selected(c, ref), now)
        ]

        def render(forms: Forms | None) -> str:
            tools = bulk_pages.filter_form("/conflicts", query, self.lanes, sides=False)
            if forms is not None:
                tools += bulk_pages.bulk_forms(
                    forms, "/conflicts/bulk", query, CONFLICT_BUTTONS, len(found), chosen.narrows
                )
            return conflicts_page(found, forms, _notice(request), tools)

        return self._html(request, render)

    async def quarantine(self, request: web.Request) -> web.Response:
        """The quarantined records the query's filter selects, each by name and ids."""
        query = dict(request.query)
        try:
            chosen = bulk_pages.page_filter(query, sides=True)
        except FilterError as error:
            return _bad_filter("/quarantine", error)
        entries = await select_quarantined(self.store, everything(chosen), utc_now(), self.mappings)
        refs = await quarantine_refs(self.store, entries, self.mappings)
        found = [
            (q, cell_html(ref, self.pages.get(q.connection, HubSpotPages())))
            for q, ref in zip(entries, refs, strict=True)
        ]

        def render(forms: Forms | None) -> str:
            tools = bulk_pages.filter_form("/quarantine", query, self.lanes, sides=True)
            if forms is not None:
                tools += bulk_pages.bulk_forms(
                    forms, "/quarantine/bulk", query, QUARANTINE_BUTTONS, len(found), chosen.narrows
                )
            return quarantine_page(found, forms, _notice(request), tools)

        return self._html(request, render)

    async def guards(self, request: web.Request) -> web.Response:
        """Each lane's tripped guards, and what the plan they held back would write."""
        lanes = []
        for connection, entity in self.lanes:
            trips = await guards.read_trips(self.store, connection, entity)
            if trips:
                held = await guards.read_held_plan(self.store, connection, entity)
                shown = plan_html(held, entity, self.pages.get(connection, HubSpotPages()))
                lanes.append(GuardLane(connection, entity, trips, shown))
        return self._html(request, lambda forms: guards_page(lanes, forms, _notice(request)))

    async def history(self, request: web.Request) -> web.Response:
        query = request.query.get("q", "").strip()
        found = await self._histories(query) if query else []
        return web.Response(text=history_page(query, found), content_type="text/html")

    async def _histories(self, query: str) -> list[RecordHistory]:
        """The records ``query`` names (part of a name, a HubSpot id or an AFAS number),
        each its own section, in every lane that knows them; else an id's events."""
        found = []
        for connection, entity in self.lanes:
            for link in await find_records(self.store, connection, [entity], query):
                events = await history(self.store, connection, entity, link.crm_id)
                label = as_text(link_ref(link), HubSpotPages())
                found.append(RecordHistory(connection, entity, label, events))
        if found:
            return found
        for connection, entity in self.lanes:
            events = await history(self.store, connection, entity, query)
            if events:
                found.append(RecordHistory(connection, entity, query, events))
        return found

    def _html(self, request: web.Request, render: Callable[[Forms | None], str]) -> web.Response:
        if self.desk is None:
            return web.Response(text=render(None), content_type="text/html")
        nonce = request.cookies.get(csrf.NONCE_COOKIE) or csrf.new_nonce()
        response = web.Response(
            text=render(Forms(csrf.form_token(self.token, nonce))), content_type="text/html"
        )
        response.set_cookie(csrf.NONCE_COOKIE, nonce, httponly=True, samesite="Strict", path="/")
        return response

    # --- actions -------------------------------------------------------------------------

    async def resolve(self, request: web.Request) -> web.StreamResponse:
        async def act(desk: Desk, form: dict[str, str], by: str) -> str:
            conflict_id = _whole_number(request.match_info["id"])
            take = Side(form["take"]) if form.get("take") in ("crm", "afas") else None
            if take is None and "value" not in form:
                raise SyncdError("give a value, or take one side's")
            await desk.resolve(form.get("connection", ""), conflict_id, take, form.get("value"), by)
            return _back("/conflicts", "resolved", str(conflict_id))

        return await self._act(request, "/conflicts", act)

    async def requeue(self, request: web.Request) -> web.StreamResponse:
        action = request.match_info["action"]

        async def act(desk: Desk, form: dict[str, str], by: str) -> str:
            where = (form.get("connection", ""), form.get("entity", ""))
            side, record = _side(form.get("side", "")), form.get("record", "")
            work = desk.retry if action == "retry" else desk.drop
            if not await work(*where, side, record, by):
                raise SyncdError(f"{side} record {record} is not in quarantine")
            return _back("/quarantine", action, f"{side} {record}")

        return await self._act(request, "/quarantine", act)

    async def bulk_conflicts(self, request: web.Request) -> web.StreamResponse:
        async def act(desk: Desk, form: dict[str, str], by: str) -> web.Response:
            bulk = BulkDesk(self.store, desk, self.pages, self.mappings)
            return _page(await bulk.conflicts(form, Forms(form[csrf.FORM_FIELD]), by))

        return await self._act(request, "/conflicts", act)

    async def bulk_quarantine(self, request: web.Request) -> web.StreamResponse:
        async def act(desk: Desk, form: dict[str, str], by: str) -> web.Response:
            bulk = BulkDesk(self.store, desk, self.pages, self.mappings)
            return _page(await bulk.quarantine(form, Forms(form[csrf.FORM_FIELD]), by))

        return await self._act(request, "/quarantine", act)

    async def confirm(self, request: web.Request) -> web.StreamResponse:
        async def act(desk: Desk, form: dict[str, str], by: str) -> str:
            connection, entity = form.get("connection", ""), form.get("entity", "")
            if not await desk.confirm(connection, entity, by):
                raise SyncdError(f"no guard of {connection}/{entity} waits to be confirmed")
            return _back("/guards", "confirmed", f"{connection}/{entity}")

        return await self._act(request, "/guards", act)

    async def _act(
        self,
        request: web.Request,
        page: str,
        act: Callable[[Desk, dict[str, str], str], Awaitable[str | web.Response]],
    ) -> web.StreamResponse:
        """The checks every POST passes, then the action, then back to ``page`` (or the
        page the action answers with)."""
        if self.desk is None:
            return web.Response(status=403, text=ACTIONS_OFF)
        origin, referer = request.headers.get("Origin"), request.headers.get("Referer")
        if not csrf.same_origin(request.host, origin, referer):
            return web.Response(status=403, text=NOT_FROM_THE_PAGE)
        form = {k: str(v) for k, v in (await request.post()).items()}
        nonce = request.cookies.get(csrf.NONCE_COOKIE)
        if not csrf.form_token_is_valid(self.token, nonce, form.get(csrf.FORM_FIELD)):
            return web.Response(status=403, text=BAD_CSRF)
        try:
            by = self.desk.who(request.remote, request.get(OPERATOR))
            target = await act(self.desk, form, by)
        except (SyncdError, ValueError) as error:
            return _refused_page(page, Notice(f"Not done: {error}", refused=True))
        if isinstance(target, web.Response):
            return target
        raise web.HTTPSeeOther(target)


def _refused_page(page: str, notice: Notice) -> web.Response:
    """An action that failed: say why, with a way back to the page."""
    body = f"<p><a href='{page}'>Back</a></p>"
    return web.Response(status=409, text=layout("not done", body, notice), content_type="text/html")


def _selected(conflict: Conflict, ref: RecordRef | None) -> SelectedConflict:
    """A conflict as the filter reads it, named by its link (None: unlinked since)."""
    if ref is None:
        return SelectedConflict(conflict, None, None, None)
    return SelectedConflict(conflict, ref.crm_id, ref.afas_id, ref.name)


def _bad_filter(page: str, error: FilterError) -> web.Response:
    body = f"<p><a href='{page}'>Show all</a></p>"
    notice = Notice(f"The filter is not understood: {error}", refused=True)
    return web.Response(status=400, text=layout("filter", body, notice), content_type="text/html")


def _page(text: str) -> web.Response:
    return web.Response(text=text, content_type="text/html")


def _back(page: str, code: str, item: str) -> str:
    return str(URL(page).with_query(done=code, item=item))


def _notice(request: web.Request) -> Notice | None:
    text = DONE.get(request.query.get("done", ""))
    return Notice(text.format(request.query.get("item", ""))) if text else None


def _whole_number(text: str) -> int:
    if not text.isdigit():
        raise SyncdError(f"a conflict is a whole number, not {text!r}")
    return int(text)


def _side(text: str) -> Side:
    if text not in ("crm", "afas"):
        raise SyncdError(f"a side is crm or afas, not {text!r}")
    return Side(text)
