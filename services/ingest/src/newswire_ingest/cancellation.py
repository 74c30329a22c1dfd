"""Steps that must not be cut in half when a poll is abandoned.

A rebalance abandons polls under way (``FeedScheduler.revoke``) by cancelling them. Most of
a poll can stop anywhere, but publishing an entry and remembering that it was published is
one step: cut between the two, the next poll would publish the entry again without
counting it. Such steps run to their end, and the cancellation is delivered after.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run_to_completion"]

T = TypeVar("T")


async def run_to_completion(step: Coroutine[Any, Any, T]) -> T:
    """Await ``step``; if the caller is cancelled meanwhile, finish it first, then re-raise.

    A second cancellation while finishing does interrupt it (a stop that cannot wait).
    """
    task = asyncio.ensure_future(step)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        if not task.done():
            await task
        raise
