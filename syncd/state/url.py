"""The state store's URL as the settings check it, before any database is opened.

SQLAlchemy, which opens the URL later, parses it here too, so the check and the store
never disagree about what a URL means. A URL is shown in messages with its password hidden.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL, make_url

__all__ = ["BACKENDS", "redact_url", "resolve_sqlite_path", "url_problem"]

BACKENDS = ("sqlite", "postgresql")


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
    parsed = _parse_or_none(url)
    shown = redact_url(url)
    if parsed is None:
        return (
            f"{shown!r} is not a database URL; use sqlite:///path/to/syncd.db or "
            "postgresql://user@host/database"
        )
    backend = parsed.get_backend_name()
    if backend not in BACKENDS:
        return f"{shown!r} uses {backend!r}; syncd keeps its state in {' or '.join(BACKENDS)}"
    return None


def resolve_sqlite_path(url: str, base: Path) -> str:
    """A SQLite URL whose file path is relative, made relative to ``base``; other URLs
    as they are."""
    parsed = _parse_or_none(url)
    if parsed is None or parsed.get_backend_name() != "sqlite":
        return url
    database = parsed.database or ""
    if database in ("", ":memory:") or Path(database).is_absolute():
        return url
    return parsed.set(database=str(base / database)).render_as_string(hide_password=False)


def _parse_or_none(url: str) -> URL | None:
    try:
        return make_url(url)
    except Exception:  # make_url raises ArgumentError or ValueError on bad parts
        return None
