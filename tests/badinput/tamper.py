"""A proxy on loopback that spoils chosen answers of a simulator, as a broken network would.

Every request is passed on to the simulator. A :class:`Spoil` rule that matches a request
either answers in the simulator's place with bytes of its own (an HTML page from a load
balancer, a truncated body, bytes in another encoding: the request never reaches the
simulator), or passes the request on and rewrites the JSON of the simulator's answer
(one bad row among good ones).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from yarl import URL

_HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "accept-encoding"}


@dataclass
class Spoil:
    """What to do to the next ``times`` requests whose method and path match."""

    method: str
    path: str  # a regular expression the whole request path must match
    body: bytes | None = None  # answer with these bytes instead of asking the simulator
    status: int = 200
    content_type: str = "application/json; charset=utf-8"
    edit: Callable[[Any], Any] | None = None  # rewrite the simulator's JSON answer
    times: int = 1

    def matches(self, request: web.Request) -> bool:
        return request.method == self.method and re.fullmatch(self.path, request.path) is not None


@dataclass
class TamperProxy:
    """The proxy's rules, and how many requests each one spoiled."""

    upstream: URL
    rules: list[Spoil] = field(default_factory=list)
    spoiled: int = 0

    def spoil(self, rule: Spoil) -> None:
        self.rules.append(rule)

    def _take(self, request: web.Request) -> Spoil | None:
        for rule in self.rules:
            if rule.matches(request):
                rule.times -= 1
                if rule.times <= 0:
                    self.rules.remove(rule)
                self.spoiled += 1
                return rule
        return None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        rule = self._take(request)
        if rule is not None and rule.body is not None:
            return web.Response(
                body=rule.body, status=rule.status, headers={"Content-Type": rule.content_type}
            )
        status, headers, data = await self._forward(request)
        if rule is not None and rule.edit is not None:
            data = json.dumps(rule.edit(json.loads(data))).encode()
        return web.Response(body=data, status=status, headers=headers)

    async def _forward(self, request: web.Request) -> tuple[int, dict[str, str], bytes]:
        url = URL(str(self.upstream.origin()) + request.raw_path, encoded=True)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        body = await request.read()
        async with (
            aiohttp.ClientSession(auto_decompress=True) as session,
            session.request(request.method, url, headers=headers, data=body or None) as answer,
        ):
            data = await answer.read()
            kept = {
                k: v
                for k, v in answer.headers.items()
                if k.lower() not in _HOP_HEADERS and k.lower() != "content-encoding"
            }
            return answer.status, kept, data


@asynccontextmanager
async def tamper_proxy(upstream: str) -> AsyncIterator[tuple[TamperProxy, str]]:
    """A proxy in front of ``upstream``; yields it and ``upstream`` as seen through it."""
    target = URL(upstream)
    proxy = TamperProxy(target)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", proxy.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        through = URL(str(server.make_url("/"))).with_path(target.path)
        yield proxy, str(through)
    finally:
        await server.close()
