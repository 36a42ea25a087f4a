"""Reading HubSpot's answers and writing its search filters: pure functions, no I/O.

An answer of a shape HubSpot never sends is the answer of something else (a proxy, a
changed API): it becomes an error naming the request, never a half-read page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from syncd.errors import OutcomeUnknownError, PermanentError
from syncd.problems.report import describe

__all__ = [
    "EPOCH",
    "MERGED_IDS",
    "JsonObject",
    "chunks",
    "epoch_ms",
    "merge_survivors",
    "next_after",
    "parse_time",
    "properties_of",
    "results_of",
    "search_filter",
    "total_of",
]

JsonObject = dict[str, Any]
MERGED_IDS = "hs_merged_object_ids"
"""The property listing the ids a merge folded into a company (``;``-separated)."""

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_T = TypeVar("_T")


def results_of(body: object, request: str, *, write: bool = False) -> list[JsonObject]:
    """The ``results`` of an answer, each a company with an id (as text).

    A shape HubSpot never sends is the answer of something else: an error naming the
    request (OutcomeUnknownError for a write, which may still have been done).
    """
    results = body.get("results", []) if isinstance(body, dict) else None
    problem = None
    if not isinstance(results, list):
        problem = f"the answer is {describe(body)} without a list of results"
    else:
        for position, obj in enumerate(results):
            if not isinstance(obj, dict) or not _usable_id(obj.get("id")):
                shown = describe(obj.get("id")) if isinstance(obj, dict) else describe(obj)
                problem = f"result {position} has no company id (it has {shown})"
                break
    if problem is None:
        assert isinstance(results, list)
        return [{**obj, "id": str(obj["id"])} for obj in results]
    if write:
        raise OutcomeUnknownError(
            f"HubSpot {request}: {problem}; the write may have happened: look it up first"
        )
    raise PermanentError(f"HubSpot {request}: {problem}; nothing of this answer was used")


def _usable_id(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return False
    return str(value).isascii() and str(value).isdigit()


def properties_of(obj: JsonObject) -> dict[str, Any]:
    """A company's properties; empty when HubSpot sent none (or something else)."""
    properties = obj.get("properties")
    return properties if isinstance(properties, dict) else {}


def next_after(body: object) -> str | None:
    """The cursor of the next page, if the answer names one."""
    paging = body.get("paging") if isinstance(body, dict) else None
    following = paging.get("next") if isinstance(paging, dict) else None
    after = following.get("after") if isinstance(following, dict) else None
    return str(after) if after not in (None, "") else None


def total_of(body: object) -> int:
    """How many companies a search answer says match in all (0 if it does not say)."""
    total = body.get("total") if isinstance(body, dict) else None
    return total if isinstance(total, int) and not isinstance(total, bool) else 0


def merge_survivors(wanted: Sequence[str], objects: Sequence[JsonObject]) -> dict[str, str]:
    """Asked-for ids that a merge folded into another company: old id -> survivor."""
    asked = set(wanted)
    moved: dict[str, str] = {}
    for obj in objects:
        for old in asked.intersection(str(properties_of(obj).get(MERGED_IDS) or "").split(";")):
            if old != obj["id"]:
                moved[old] = obj["id"]
    return moved


def search_filter(prop: str, operator: str, value: str | Sequence[str]) -> JsonObject:
    """One filter of a search request (``values`` for a list, as ``IN`` takes)."""
    if isinstance(value, str):
        return {"propertyName": prop, "operator": operator, "value": value}
    return {"propertyName": prop, "operator": operator, "values": list(value)}


def epoch_ms(moment: datetime, *, up: bool = False) -> int:
    """Epoch milliseconds, exactly: rounded down, or up with ``up``."""
    whole, rest = divmod(moment - EPOCH, _MS)
    return whole + (1 if up and rest else 0)


def parse_time(value: object) -> datetime | None:
    """HubSpot's time (ISO 8601, or epoch milliseconds); None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    try:
        if value.isascii() and value.isdigit():
            return datetime.fromtimestamp(int(value) / 1000, UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def chunks(items: Sequence[_T], size: int) -> Iterable[list[_T]]:
    """``items`` in consecutive lists of at most ``size``."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
