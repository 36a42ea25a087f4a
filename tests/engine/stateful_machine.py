"""What the engine's state machines share: an event loop of their own (hypothesis runs
rules synchronously) and a SQLite state store in a temporary directory, removed after."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

from hypothesis.stateful import RuleBasedStateMachine

from syncd.state.store import open_store

T = TypeVar("T")


class StoreMachine(RuleBasedStateMachine):
    """A state machine with its loop and an open, empty state store."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.tmp = Path(tempfile.mkdtemp())
        self.store = self.run(open_store(f"sqlite:///{self.tmp / 'state.db'}"))

    def run(self, awaitable: Awaitable[T]) -> T:
        return self.loop.run_until_complete(awaitable)

    def teardown(self) -> None:
        self.run(self.store.close())
        self.loop.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
