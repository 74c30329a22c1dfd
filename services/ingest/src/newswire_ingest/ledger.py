"""One visit's ledger of a feed: the state it began with, the page retries it keeps, and
what it published, counted exactly across crashes: each claim once.

An article is counted when its version is published, in the same write as the claim's id
is added to the feed's ``recent_claims``. A writer killed between publishing and
remembering the entry publishes nothing again next time (the claim is there), but finds the
claim its feed made and counts it then, unless ``recent_claims`` says it already did.
"""

from __future__ import annotations

import asyncio

from .adapters.feed_store import FeedStore
from .domain.feed_state import RECENT_CLAIMS, FeedState
from .domain.page_retries import PageBook

__all__ = ["FeedLedger"]


class FeedLedger:
    """What one visit of its owner to a feed keeps track of."""

    def __init__(self, store: FeedStore, state: FeedState) -> None:
        self._store = store
        self.state = state
        self.book = PageBook(state.pending_pages)
        self.tried: set[str] = set()
        """Entries whose page this visit fetched already."""
        self.published = 0
        self._counted = list(state.recent_claims)
        self._lock = asyncio.Lock()

    async def count(self, claim_id: str) -> None:
        """Count the claim unless it was."""
        async with self._lock:
            if claim_id in self._counted:
                return
            counted = [*self._counted, claim_id][-RECENT_CLAIMS:]
            await self._store.count_published(self.state.id, counted)
            self._counted = counted
            self.published += 1
