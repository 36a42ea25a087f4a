"""How a plan goes out: phases in order, actions cut into requests, and the writes of
both sides at once, each side in a lane of its own."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from syncd.engine.actions import (
    Action,
    Adopt,
    AdvanceBase,
    CloseConflicts,
    Create,
    Detach,
    LinkPair,
    OpenConflict,
    Quarantine,
    Repoint,
    Update,
)
from syncd.records import Side

PHASES: tuple[type, ...] = (
    LinkPair,
    Adopt,
    Repoint,
    Quarantine,
    AdvanceBase,  # before Update: a seeded base is saved before its write, never after
    Update,
    Create,
    Detach,
    OpenConflict,
    CloseConflicts,
)
STORE_ONLY = (LinkPair, AdvanceBase, Repoint, OpenConflict, CloseConflicts, Quarantine)
BATCH_SIZE = 100
IN_FLIGHT = 2  # batches of one batching side at once: enough to overlap a commit with requests
STORE_BATCH_SIZE = 250  # store-only actions per transaction: bounded, and still few commits

RunBatch = Callable[[list[Action]], Awaitable[None]]


def cut_into_batches(actions: list[Action], batching: Mapping[Side, bool]) -> list[list[Action]]:
    """The actions of one phase cut into requests (or transactions), side by side.

    ``batching`` says per side whether it takes many records in one request.
    """
    batches: list[list[Action]] = []
    for action in sorted(actions, key=_side_order):
        if batches and _joins(batches[-1], action, batching):
            batches[-1].append(action)
        else:
            batches.append([action])
    return batches


async def write_in_lanes(
    batches: list[list[Action]], batching: Mapping[Side, bool], run: RunBatch
) -> None:
    """Write batches, each side in a lane of its own and both lanes at once.

    A lane keeps up to :data:`IN_FLIGHT` batches of a batching side going, so that
    one batch's read-back and commit overlap the next one's requests and the side's
    allowed concurrency stays in use instead of idling between lock-step chunks.
    ``run`` commits each batch's intents before its requests are sent (the
    write-ahead rule holds per batch). A failed batch stops both lanes from starting
    more; batches already sent finish and commit their outcomes, then its error is
    raised, as when the batches ran one after another.
    """
    lanes: dict[Side, list[list[Action]]] = {}
    for batch in batches:
        lanes.setdefault(write_target(batch[0]), []).append(batch)
    failures: list[Exception] = []
    async with asyncio.TaskGroup() as group:
        for side, lane in lanes.items():
            width = IN_FLIGHT if batching[side] else 1
            group.create_task(_run_lane(lane, width, run, failures))
    if failures:
        raise failures[0]


async def _run_lane(
    batches: list[list[Action]], width: int, run: RunBatch, failures: list[Exception]
) -> None:
    room = asyncio.Semaphore(width)

    async def run_one(batch: list[Action]) -> None:
        try:
            await run(batch)
        except Exception as error:  # stops both lanes; raised once they are done
            failures.append(error)
        finally:
            room.release()

    async with asyncio.TaskGroup() as group:
        for batch in batches:
            await room.acquire()
            if failures:
                room.release()
                break
            group.create_task(run_one(batch))


def write_target(action: Action) -> Side:
    if not isinstance(action, Update | Create):
        raise TypeError(f"{type(action).__name__} writes to no side")
    return action.target


def _joins(batch: list[Action], action: Action, batching: Mapping[Side, bool]) -> bool:
    """Whether ``action`` goes in the same request (or transaction) as ``batch``."""
    first = batch[0]
    if isinstance(first, STORE_ONLY):
        return type(action) is type(first) and len(batch) < STORE_BATCH_SIZE
    if not isinstance(first, Update | Create) or not isinstance(action, Update | Create):
        return False
    size = BATCH_SIZE if batching[first.target] else 1
    return action.target is first.target and len(batch) < size


def _side_order(action: Action) -> int:
    """Writes to one side go together, so they can share requests (a stable sort)."""
    return 1 if isinstance(action, Update | Create) and action.target is Side.AFAS else 0
