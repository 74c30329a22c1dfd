"""Steps that must not be cut in half when a poll is abandoned.

A rebalance abandons polls under way (``FeedScheduler.revoke``) by cancelling them. Most of
a poll can stop anywhere, but publishing an entry and remembering that it was published is
one step: cut between the two, the next poll would publish the entry again without
counting it. Such steps run to their end, and the cancellation is delivered after. The wait
is bounded by the step's own timeouts (the producer's and the store client's).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run_to_completion"]

T = TypeVar("T")

log = logging.getLogger(__name__)


async def run_to_completion(step: Coroutine[Any, Any, T]) -> T:
    """Await ``step``; if the caller is cancelled meanwhile, finish it first, then re-raise.

    The cancellation wins over the step's own failure (logged), so the caller still ends as
    cancelled. A second cancellation of the caller while it finishes does interrupt it.
    """
    task = asyncio.ensure_future(step)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        if not task.done():
            try:
                await task
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("a step finished after cancellation failed")
        raise
