"""The status page's token: asked for once, then kept as a cookie proving it.

A request passes with the token (``Authorization: Bearer``, or ``?token=`` for scripts
and links) or an operator's own (``[status] operators``: what they do is then theirs in
the status events), or with the session cookie a browser got for it (:func:`csrf.session_value`,
never the token itself). A browser without either gets a small sign-in form instead of
a bare 401. The form POSTs to :data:`SIGN_IN`, protected like the page's other forms
(its origin, and a CSRF token bound to a nonce cookie); the right token sets the cookie
and goes back to the page asked for, a wrong one is refused without being shown again.
"""

from __future__ import annotations

import hmac
import html
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from aiohttp import web

from syncd.status import csrf
from syncd.status.pages import Notice, page

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]
SIGN_IN = "/signin"
WRONG_TOKEN = (
    "That is not the status page's token, nor an operator's. Check [status] token_env "
    "(or your own in [status] operators) and try again."
)
# The name of the operator who signed in, as the request carries it (not set for the
# page's own token).
OPERATOR = web.RequestKey("operator", str)
STALE_FORM = "This sign-in form was not served to this browser (or has expired); try again."
NOT_FROM_THE_PAGE = "refused: this sign-in did not come from the status page itself\n"


def token_required(token: str, operators: Mapping[str, str] | None = None) -> Middleware:
    """Every request but the sign-in's own needs a token or the cookie proving it: the
    page's own, or an operator's (``operators``: name to token), whose name the request
    then carries as ``request[OPERATOR]`` for the status events of what it does."""
    known = Credentials(token, operators or {})

    @web.middleware
    async def check_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == SIGN_IN and request.method == "POST":
            return await _sign_in(request, known)
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        given = given or request.query.get("token", "")
        holder = known.holder_of(given)
        if holder is not None:
            _carry(request, holder)
            response = await handler(request)
            if "token" in request.query and not response.prepared:
                _keep_session(response, holder.session)
            return response
        holder = known.holder_of_session(request.cookies.get(csrf.SESSION_COOKIE, ""))
        if holder is not None:
            _carry(request, holder)
            return await handler(request)
        if request.method == "GET" and "text/html" in request.headers.get("Accept", ""):
            return _form(request, token, _coming_back(request), status=401)
        return web.Response(status=401, text="a token is required\n")

    return check_token


@dataclass(frozen=True)
class Holder:
    """Who holds a token: an operator by name, or None for the page's own token."""

    name: str | None
    token: str = field(repr=False)
    session: str = field(repr=False)  # the cookie's proof of the token


class Credentials:
    """The tokens the page takes, each with the session cookie that proves it."""

    def __init__(self, token: str, operators: Mapping[str, str]) -> None:
        self.token = token
        pairs = [(None, token), *operators.items()]
        self._holders = [Holder(name, t, csrf.session_value(t)) for name, t in pairs]

    def holder_of(self, given: str) -> Holder | None:
        return next((h for h in self._holders if given and _same(given, h.token)), None)

    def holder_of_session(self, cookie: str) -> Holder | None:
        return next((h for h in self._holders if cookie and _same(cookie, h.session)), None)


def _carry(request: web.Request, holder: Holder) -> None:
    if holder.name is not None:
        request[OPERATOR] = holder.name


async def _sign_in(request: web.Request, known: Credentials) -> web.StreamResponse:
    token = known.token
    origin, referer = request.headers.get("Origin"), request.headers.get("Referer")
    if not csrf.same_origin(request.host, origin, referer):
        return web.Response(status=403, text=NOT_FROM_THE_PAGE)
    form = {k: str(v) for k, v in (await request.post()).items()}
    going = _local(form.get("next", "/"))
    nonce = request.cookies.get(csrf.NONCE_COOKIE)
    if not csrf.form_token_is_valid(token, nonce, form.get(csrf.FORM_FIELD)):
        return _form(request, token, going, status=403, notice=Notice(STALE_FORM, refused=True))
    holder = known.holder_of(form.get("token", ""))
    if holder is None:
        return _form(request, token, going, status=401, notice=Notice(WRONG_TOKEN, refused=True))
    response = web.Response(status=303, headers={"Location": going})
    _keep_session(response, holder.session)
    return response


def _form(
    request: web.Request, token: str, going: str, *, status: int, notice: Notice | None = None
) -> web.Response:
    """The sign-in page; its CSRF token bound to this browser's nonce, as every form's."""
    nonce = request.cookies.get(csrf.NONCE_COOKIE) or csrf.new_nonce()
    body = (
        f"<form method='post' action='{SIGN_IN}'>"
        f"<input type='hidden' name='{csrf.FORM_FIELD}' value='{csrf.form_token(token, nonce)}'>"
        f"<input type='hidden' name='next' value='{html.escape(going, quote=True)}'>"
        "<p><label>Token <input type='password' name='token' autocomplete='current-password' "
        "required autofocus></label> <button type='submit'>Sign in</button></p></form>"
        "<p>The token is the value of the variable <code>[status] token_env</code> names, "
        "or your own, named in <code>[status] operators</code>.</p>"
    )
    response = web.Response(
        status=status, text=page("sign in", body, notice), content_type="text/html"
    )
    response.set_cookie(csrf.NONCE_COOKIE, nonce, httponly=True, samesite="Strict", path="/")
    return response


def _keep_session(response: web.StreamResponse, session: str) -> None:
    response.set_cookie(csrf.SESSION_COOKIE, session, httponly=True, samesite="Strict", path="/")


def _same(given: str, token: str) -> bool:
    return hmac.compare_digest(given.encode(), token.encode())


def _coming_back(request: web.Request) -> str:
    """The page asked for, without a (wrong) token in its query."""
    kept = [(k, v) for k, v in request.query.items() if k != "token"]
    return str(request.rel_url.with_query(kept))


def _local(target: str) -> str:
    """Where to go after signing in: a path on this server only, never another site."""
    if not target.startswith("/") or target.startswith(("//", "/\\")) or target == SIGN_IN:
        return "/"
    return target
