"""Whose turn it is among one connection's lanes: its company lanes together, the lanes
of their contact persons alone.

A contact cycle reads, at its first look, which companies are linked and at which AFAS
organisation each sits, and places every person by them. A company cycle that commits
while a contact cycle runs changes that under it: the demo showed a contact cycle that
ran beside its companies' first sync create, in AFAS, people who were there already at
an organisation it saw only half-linked. So a contact cycle waits until no company cycle
of its connection runs, and company cycles wait while one runs or waits; company cycles
run beside each other as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class EntityTurns:
    """One connection's turns: companies share theirs, contacts take theirs alone."""

    def __init__(self) -> None:
        self._changed = asyncio.Condition()
        self._companies = 0  # company cycles running
        self._contacts = False  # a contact cycle running
        self._contacts_waiting = 0  # contact cycles waiting: companies let them go first

    @asynccontextmanager
    async def turn(self, *, contacts: bool) -> AsyncIterator[None]:
        """Hold a turn for one cycle: a contact lane's alone, a company lane's shared."""
        if contacts:
            await self._take_alone()
        else:
            await self._take_shared()
        try:
            yield
        finally:
            async with self._changed:
                if contacts:
                    self._contacts = False
                else:
                    self._companies -= 1
                self._changed.notify_all()

    async def _take_shared(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: not self._contacts and not self._contacts_waiting)
            self._companies += 1

    async def _take_alone(self) -> None:
        async with self._changed:
            self._contacts_waiting += 1
            try:
                await self._changed.wait_for(lambda: not self._companies and not self._contacts)
            finally:
                self._contacts_waiting -= 1
            self._contacts = True
