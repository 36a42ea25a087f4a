"""A seeded schedule of faults, armed on both simulators for one round of cycles.

Each round draws a few faults from the kinds below, each aimed at a random method and
endpoint, after a random number of matching requests have passed, so they land anywhere
in a cycle: in the pull, in the fresh read, in a write. ``TIMEOUT`` is the clients'
timeout in the campaign; a "timeout" fault answers later than that, and the simulators
carry on with the request the client gave up on (a write commits unseen).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from syncd.records import Side
from syncd.sim.afas import Fault as AfasFault
from syncd.sim.hubspot import Fault as HubSpotFault
from tests.reliability.campaign.world import Edit, World

TIMEOUT = 1.0  # seconds the campaign's clients wait for an answer

_AFAS_METHODS = ("", "GET", "POST", "PUT")
_AFAS_WRITES = ("POST", "PUT")
_HUBSPOT_TARGETS = (
    (None, None),
    ("POST", "/search"),
    ("POST", "/batch/read"),
    ("POST", "/batch/create"),
    ("POST", "/batch/update"),
    ("POST", "/batch/upsert"),
    ("PATCH", None),
    ("GET", None),
)
_HUBSPOT_WRITES = (("POST", "/batch/create"), ("POST", "/batch/update"), ("PATCH", None))


def _afas(rng: random.Random, kind: str, **options: object) -> AfasFault:
    method = str(options.pop("method", rng.choice(_AFAS_METHODS)))
    fault = AfasFault(kind=kind, method=method, skip=rng.randrange(4))
    for name, value in options.items():
        setattr(fault, name, value)
    return fault


def _hubspot(rng: random.Random, writes: bool = False, **options: object) -> HubSpotFault:
    method, path = rng.choice(_HUBSPOT_WRITES if writes else _HUBSPOT_TARGETS)
    fault = HubSpotFault(method=method, path=path, skip=rng.randrange(4))
    for name, value in options.items():
        setattr(fault, name, value)
    return fault


Maker = Callable[[random.Random], object]

KINDS: dict[str, Maker] = {
    "afas 503 retry_after": lambda r: _afas(
        r, "unavailable", retry_after=0.05, times=r.randint(1, 3)
    ),
    "afas 500": lambda r: _afas(r, "error", times=r.randint(1, 2)),
    "afas 500 lock": lambda r: _afas(r, "lock"),
    "afas timeout": lambda r: _afas(r, "slow", seconds=TIMEOUT * 1.5),
    "afas slow": lambda r: _afas(r, "slow", seconds=TIMEOUT * 0.4),
    "afas response lost after commit": lambda r: _afas(
        r, "lost", method=r.choice(_AFAS_WRITES), seconds=0.05
    ),
    "afas dropped connection": lambda r: _afas(r, "drop"),
    "hubspot 5xx": lambda r: _hubspot(r, status=r.choice((500, 502, 504)), count=r.randint(1, 2)),
    "hubspot 503": lambda r: _hubspot(r, status=503),
    "hubspot 429 storm": lambda r: _hubspot(r, status=429, count=r.randint(4, 12)),
    "hubspot timeout": lambda r: _hubspot(r, delay=TIMEOUT * 1.5),
    "hubspot slow": lambda r: _hubspot(r, delay=TIMEOUT * 0.4),
    "hubspot response lost after commit": lambda r: _hubspot(r, writes=True, drop=True),
}
PAGE_EDIT = {Side.AFAS: "afas page changed between requests", Side.CRM: "hubspot page changed"}
HELD = frozenset({"afas timeout", "hubspot timeout"})
"""Kinds after which a simulator still holds a request its client gave up on."""
HELD_FOR = TIMEOUT * 1.5  # how long those hold it, from its arrival


@dataclass
class ArmedFaults:
    """The faults of one round, as armed: how often each may fire, and its page edit."""

    kinds: dict[int, str] = field(default_factory=dict)
    counts: dict[int, int] = field(default_factory=dict)
    edits: dict[int, Edit] = field(default_factory=dict)
    faults: list[object] = field(default_factory=list)


def arm(world: World, rng: random.Random, how_many: int, page_edits: int) -> ArmedFaults:
    """Draw ``how_many`` faults and ``page_edits`` mid-listing edits; arm them."""
    armed = ArmedFaults()
    for kind in rng.choices(sorted(KINDS), k=how_many):
        _add(world, armed, kind, KINDS[kind](rng))
    for _ in range(page_edits):
        side = rng.choice(list(Side))
        made = world.page_edit(side)
        if made is not None:
            fault, edit = made
            _add(world, armed, PAGE_EDIT[side], fault)
            armed.edits[id(fault)] = edit
    return armed


def disarm(world: World, armed: ArmedFaults) -> Counter[str]:
    """Take away what did not fire; log fired page edits; count fired faults by kind."""
    fired: Counter[str] = Counter()
    for fault in armed.faults:
        left = fault.times if isinstance(fault, AfasFault) else getattr(fault, "count", 0)
        pending = any(f is fault for f in [*world.afas.faults, *world.hubspot.faults])
        times = armed.counts[id(fault)] - (max(left, 0) if pending else 0)
        if times > 0:
            fired[armed.kinds[id(fault)]] += times
            if id(fault) in armed.edits:
                world.log_fired_page_edit(armed.edits[id(fault)])
    world.afas.faults.clear()
    world.hubspot.faults.clear()
    return fired


def _add(world: World, armed: ArmedFaults, kind: str, fault: object) -> None:
    armed.kinds[id(fault)] = kind
    armed.faults.append(fault)
    if isinstance(fault, AfasFault):
        armed.counts[id(fault)] = fault.times
        world.afas.add_fault(fault)
    else:
        assert isinstance(fault, HubSpotFault)
        armed.counts[id(fault)] = fault.count
        world.hubspot.fail(fault)
