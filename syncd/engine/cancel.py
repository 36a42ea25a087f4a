"""Cancel a task and wait until it has stopped."""

from __future__ import annotations

import asyncio
from typing import Any


async def cancel_task(task: asyncio.Future[Any] | None) -> None:
    """Cancel ``task`` if it is still going, and wait until it is."""
    if task is None:
        return
    if not task.done():
        task.cancel()
    await asyncio.gather(task, return_exceptions=True)
