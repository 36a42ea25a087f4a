"""Held plans: per lane, what the plan a tripped guard held back would write.

One row per lane, replaced by the next trip (a guard trips again every cycle until it
is confirmed): the operator reads the newest, and the table stays as small as the lanes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, delete

from syncd.state.sessions import StoreSessions, TransactionSession
from syncd.state.tables import HeldPlanRow


class HeldPlanReads(StoreSessions):
    """What :class:`~syncd.state.store.StateStore` reads of held plans."""

    async def held_plan(
        self, connection: str, entity: str
    ) -> tuple[datetime, dict[str, Any]] | None:
        """When the lane's newest held plan was held, and the plan as data; None if none."""
        async with self._session("cannot read the held plan") as session:
            row = await session.get(HeldPlanRow, (connection, entity))
            return None if row is None else (row.at, row.plan)


class HeldPlanWrites(TransactionSession):
    """How a :class:`~syncd.state.store.Transaction` keeps a held plan."""

    async def hold_plan(
        self, connection: str, entity: str, plan: dict[str, Any], at: datetime
    ) -> None:
        """Keep ``plan`` as the lane's held plan, in place of the one before."""
        with self._db.failing_as("cannot keep the held plan"):
            await self._session.exec(
                delete(HeldPlanRow).where(
                    col(HeldPlanRow.connection) == connection, col(HeldPlanRow.entity) == entity
                )
            )
            self._session.add(HeldPlanRow(connection=connection, entity=entity, plan=plan, at=at))
