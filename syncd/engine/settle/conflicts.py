"""Settle many conflicts at once, each exactly as ``syncd conflicts resolve ID`` would."""

from __future__ import annotations

from syncd.engine.cycle import Connection
from syncd.engine.resolve import ConflictNotOpen, ResolveError, resolve_conflict
from syncd.engine.settle.filter import SelectedConflict
from syncd.engine.settle.outcome import Outcome, Settlement
from syncd.errors import SyncdError
from syncd.records import Side, Value


async def settle_conflicts(
    conn: Connection,
    selection: list[SelectedConflict],
    *,
    take: Side | None = None,
    value: Value = None,
    by: str | None,
    dry_run: bool = False,
) -> Settlement[SelectedConflict]:
    """Resolve each selected conflict of ``conn`` in turn: take a side, or give a value.

    Each goes through :func:`resolve_conflict`, so each write is journalled and each
    conflict closes with its own event naming ``by``. One that fails is reported and the
    rest go on; a dry run only says which would be settled.
    """
    if (take is None) == (value is None):
        raise ResolveError("settling conflicts needs a side to take or a value, one of them")
    result = Settlement(selection, dry_run)
    if dry_run:
        return result
    for item in selection:
        conflict = item.conflict
        if conflict.id is None or conflict.connection != conn.name:
            result.skipped.append(Outcome(item, f"not a conflict of connection {conn.name!r}"))
            continue
        try:
            done = await resolve_conflict(conn, conflict.id, take=take, value=value, by=by)
        except ConflictNotOpen:
            result.skipped.append(Outcome(item, "settled already"))
        except SyncdError as error:  # a side down, a record gone, a value refused
            result.failed.append(Outcome(item, str(error)))
        else:
            written = ", ".join(str(side) for side in done.written) or "nothing (both agree)"
            result.settled.append(Outcome(item, f"{done.value!r}; wrote {written}"))
    return result
