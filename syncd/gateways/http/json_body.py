"""Reading a JSON answer body, and saying plainly what is wrong with one that is not.

Both HTTP clients read bodies as bytes and hand them here. A body that is not JSON is
rarely the API's own doing: a proxy or load balancer answers with an HTML page, a
connection drops halfway and leaves a truncated body, or a server sends bytes in another
encoding. :func:`json_body` tells these apart, so the error the client raises says what
arrived instead of showing a decoder's traceback.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["UnreadableBody", "describe_body", "json_body", "lenient_text"]

_HTML_START = re.compile(rb"^\s*(<!doctype html|<html|<head|<body|<title|<\?xml)", re.IGNORECASE)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_SHOWN = 60  # characters of a title or a body's start quoted in a message


class UnreadableBody(ValueError):
    """A body that is not the JSON it should be; the message says what it is instead."""


def json_body(data: bytes) -> Any:
    """The JSON document in ``data`` (None for an empty body); UnreadableBody if none."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableBody(
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start})"
        ) from None
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnreadableBody(_not_json(data, text, exc)) from None
    except RecursionError:
        raise UnreadableBody("is JSON nested too deeply to read") from None


def describe_body(data: bytes) -> str:
    """What a body looks like, as a predicate ("is empty", "is an HTML page..."), for an
    error message about a body that is not what the API sends."""
    try:
        json_body(data)
    except UnreadableBody as exc:
        return str(exc)
    return "is JSON" if data.strip() else "is empty"


def lenient_text(data: bytes) -> str:
    """The body as text, undecodable bytes replaced: for quoting in an error, never for data."""
    return data.decode("utf-8", errors="replace")


def _not_json(data: bytes, text: str, exc: json.JSONDecodeError) -> str:
    if _HTML_START.match(data):
        title = _TITLE.search(text)
        named = f" titled {_short(title[1])!r}" if title else ""
        return f"is an HTML page{named}, not JSON"
    if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
        return f"is cut off: the JSON ends unfinished after {len(data)} bytes"
    return (
        f"is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno}; "
        f"it starts {_short(text)!r})"
    )


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _SHOWN else flat[: _SHOWN - 3] + "..."
