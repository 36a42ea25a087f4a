"""The state store's URL as the settings check it, without opening a database.

Only its shape is checked here (a scheme, a backend syncd supports, a port that is a
number); the state layer opens it. A URL is shown in messages with its password hidden.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["BACKENDS", "redact_url", "resolve_sqlite_path", "url_problem"]

BACKENDS = ("sqlite", "postgresql")
_URL = re.compile(r"(?P<scheme>[\w+]+)://(?P<rest>.*)", re.DOTALL)
_PORT = re.compile(r":(?P<port>[^/?:\]]*)$")


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (even in a URL that does not parse)."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        scheme, rest = "", url
    userinfo, at, host = rest.rpartition("@")
    if not at:
        return url
    user, colon, _ = userinfo.partition(":")
    return f"{scheme}{separator}{user}{':***' if colon else ''}@{host}"


def url_problem(url: str) -> str | None:
    """What is wrong with ``url`` as the state store's URL, or None."""
    shown = redact_url(url)
    parts = _URL.fullmatch(url)
    if parts is None or not _port_is_a_number(parts["rest"]):
        return (
            f"{shown!r} is not a database URL; use sqlite:///path/to/syncd.db or "
            "postgresql://user@host/database"
        )
    backend = parts["scheme"].partition("+")[0]
    if backend not in BACKENDS:
        return f"{shown!r} uses {backend!r}; syncd keeps its state in {' or '.join(BACKENDS)}"
    return None


def _port_is_a_number(rest: str) -> bool:
    authority = rest.split("?", 1)[0]
    host = authority.rpartition("@")[2].split("/", 1)[0]
    port = _PORT.search(host)
    return port is None or port["port"].isdigit()


def resolve_sqlite_path(url: str, base: Path) -> str:
    """A SQLite URL whose file path is relative, made relative to ``base``; other URLs
    as they are."""
    parts = _URL.fullmatch(url)
    if parts is None or parts["scheme"].partition("+")[0] != "sqlite":
        return url
    host, slash, tail = parts["rest"].partition("/")
    database, question, query = tail.partition("?")
    if host or not slash or database in ("", ":memory:") or Path(database).is_absolute():
        return url
    return f"{parts['scheme']}:///{base / database}{question}{query}"
