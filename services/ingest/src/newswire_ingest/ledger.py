"""A feed's published count, kept exact across crashes: each claim counted once.

An article is counted when its version is published, in the same write as the claim's id
is added to the feed's ``recent_claims``. A writer killed between publishing and
remembering the entry publishes nothing again next time (the claim is there), but finds the
claim its feed made and counts it then, unless ``recent_claims`` says it already did.
"""

from __future__ import annotations

import asyncio

from .adapters.feed_store import FeedStore
from .domain.feed_state import RECENT_CLAIMS, FeedState

__all__ = ["FeedLedger"]


class FeedLedger:
    """Counts one feed's publications during one visit of its owner."""

    def __init__(self, store: FeedStore, state: FeedState) -> None:
        self._store = store
        self._feed_id = state.id
        self._counted = list(state.recent_claims)
        self._lock = asyncio.Lock()
        self.published = 0

    async def count(self, claim_id: str) -> None:
        """Count the claim unless it was."""
        async with self._lock:
            if claim_id in self._counted:
                return
            counted = [*self._counted, claim_id][-RECENT_CLAIMS:]
            await self._store.count_published(self._feed_id, counted)
            self._counted = counted
            self.published += 1
