"""The feed states ingest keeps (``feed_status``, which the gateway serves as FeedStatus).

Every read and write is by ``_id`` (the only lookup FerretDB 1.24 serves from an index),
except ``all``, which scans and runs only when partitions are (re)assigned. pymongo's errors
leave this module as newswire_platform's StoreError / StoreUnavailable.

One writer per document, one write at a time: FerretDB 1.24 applies an update by reading the
document and writing it back, so two concurrent updates of one document can lose one of
them (tested in test_store.py). A feed's document is written only by the instance that owns
the feed, and here one write at a time per feed.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from newswire_contracts.readmodel import FEED_STATUS_COLLECTION
from newswire_platform import store_errors
from pymongo.asynchronous.database import AsyncDatabase

from newswire_ingest.domain.feed_state import FeedState
from newswire_ingest.domain.page_retries import PendingPage

__all__ = ["FeedStore"]


def _document(state: FeedState) -> dict[str, Any]:
    data = state.model_dump(mode="python")
    data["_id"] = data.pop("id")
    data["pages_pending"] = state.pages_pending  # what FeedStatus shows
    return data


def _state(document: dict[str, Any]) -> FeedState:
    return FeedState.model_validate({**document, "id": document["_id"]})


# Who writes which fields. A subscription command and a poll of the same feed can overlap
# (both run in the feed's owner); each writes only its own fields, so neither undoes the
# other's title or status. The schedule (next_fetch_at, interval_seconds) is written by
# both: the last write wins, and the next poll's sets it right again. The published count
# is written as each article is published (count_published), never by a poll's summary.
SUBSCRIPTION_FIELDS = (
    "url", "title", "poll_interval_seconds", "partition", "next_fetch_at", "interval_seconds",
)  # fmt: skip
POLL_FIELDS = (
    "last_fetch_at", "last_status", "last_success_at", "last_error", "last_error_step",
    "error_count", "etag", "last_modified", "last_entry_error", "warnings", "feed_title",
    "site_url", "recent_entry_times", "next_fetch_at", "interval_seconds", "pending_pages",
    "pages_pending",
)  # fmt: skip
POLL_COUNTS = ("entries_seen",)


class FeedStore:
    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._feeds = database[FEED_STATUS_COLLECTION]
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def _lock(self, feed_id: str) -> asyncio.Lock:
        return self._locks.setdefault(feed_id, asyncio.Lock())

    async def get(self, feed_id: str) -> FeedState | None:
        with store_errors():
            document = await self._feeds.find_one({"_id": feed_id})
        return _state(document) if document else None

    async def save(self, state: FeedState) -> None:
        """Write the whole state (tests and tools; the service writes by ``subscribe`` and
        ``record_poll``)."""
        async with self._lock(state.id):
            with store_errors():
                await self._feeds.replace_one({"_id": state.id}, _document(state), upsert=True)

    async def subscribe(self, state: FeedState) -> None:
        """Write a (re)subscription's fields; a new feed gets the rest of ``state`` too."""
        document = _document(state)
        own = {field: document.pop(field) for field in SUBSCRIPTION_FIELDS}
        del document["_id"]
        async with self._lock(state.id):
            with store_errors():
                await self._feeds.update_one(
                    {"_id": state.id}, {"$set": own, "$setOnInsert": document}, upsert=True
                )

    async def record_poll(self, before: FeedState, after: FeedState) -> None:
        """Write what a poll changed, from the state it started with to ``after``.

        A feed deleted meanwhile stays deleted.
        """
        document = _document(after)
        update: dict[str, Any] = {"$set": {field: document[field] for field in POLL_FIELDS}}
        added = {f: getattr(after, f) - getattr(before, f) for f in POLL_COUNTS}
        if any(added.values()):
            update["$inc"] = {f: n for f, n in added.items() if n}
        async with self._lock(after.id):
            with store_errors():
                await self._feeds.update_one({"_id": after.id}, update)

    async def count_published(self, feed_id: str, recent_claims: list[str]) -> None:
        """One more article published by the feed, and the claims counted so far (a feed
        deleted meanwhile stays deleted)."""
        async with self._lock(feed_id):
            with store_errors():
                await self._feeds.update_one(
                    {"_id": feed_id},
                    {"$inc": {"articles_published": 1}, "$set": {"recent_claims": recent_claims}},
                )

    async def save_pending_pages(self, feed_id: str, pending_pages: list[PendingPage]) -> None:
        """The feed's page retries as they are now (a poll saves them again at its end)."""
        pages = [page.model_dump(mode="python") for page in pending_pages]
        async with self._lock(feed_id):
            with store_errors():
                await self._feeds.update_one(
                    {"_id": feed_id},
                    {"$set": {"pending_pages": pages, "pages_pending": len(pages)}},
                )

    async def delete(self, feed_id: str) -> bool:
        async with self._lock(feed_id):
            with store_errors():
                return (await self._feeds.delete_one({"_id": feed_id})).deleted_count == 1

    async def all(self) -> list[FeedState]:
        """Every feed (a scan: call it on rebalance, never per poll)."""
        with store_errors():
            return [_state(d) async for d in self._feeds.find({})]
