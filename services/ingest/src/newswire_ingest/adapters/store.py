"""The MongoDB collections ingest owns: feed state and the versions of articles seen.

Every read and write is by ``_id`` (the only lookup FerretDB 1.24 serves from an index),
except ``FeedStore.all``, which scans and runs only when partitions are (re)assigned.
pymongo's errors leave this module as newswire_platform's StoreError / StoreUnavailable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from newswire_contracts.readmodel import FEED_STATUS_COLLECTION
from newswire_platform import store_errors
from pymongo.asynchronous.database import AsyncDatabase

from newswire_ingest.domain.articles import PublishedVersion
from newswire_ingest.domain.feed_state import FeedState

__all__ = ["ArticleVersions", "FeedStore"]

# FeedState documents are what the gateway reads as newswire_contracts.readmodel.FeedStatus.
FEEDS_COLLECTION = FEED_STATUS_COLLECTION
VERSIONS_COLLECTION = "ingest_articles"
ENTRIES_COLLECTION = "ingest_entries"


def _document(state: FeedState) -> dict[str, Any]:
    data = state.model_dump(mode="python")
    data["_id"] = data.pop("id")
    return data


def _state(document: dict[str, Any]) -> FeedState:
    return FeedState.model_validate({**document, "id": document["_id"]})


# Who writes which fields. A subscription command and a poll of the same feed can overlap
# (both run in the feed's owner); each writes only its own fields, and the counts are added
# rather than set, so neither undoes the other's title, status or counts. The schedule
# (next_fetch_at, interval_seconds) is written by both: the last write wins, and the next
# poll's sets it right again.
SUBSCRIPTION_FIELDS = (
    "url", "title", "poll_interval_seconds", "partition", "next_fetch_at", "interval_seconds",
)  # fmt: skip
POLL_FIELDS = (
    "last_fetch_at", "last_status", "last_success_at", "last_error", "error_count", "etag",
    "last_modified", "last_entry_error", "warnings", "feed_title", "site_url",
    "recent_entry_times", "next_fetch_at", "interval_seconds",
)  # fmt: skip
POLL_COUNTS = ("entries_seen", "articles_published")


class FeedStore:
    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._feeds = database[FEEDS_COLLECTION]

    async def get(self, feed_id: str) -> FeedState | None:
        with store_errors():
            document = await self._feeds.find_one({"_id": feed_id})
        return _state(document) if document else None

    async def save(self, state: FeedState) -> None:
        """Write the whole state (tests and tools; the service writes by ``subscribe`` and
        ``record_poll``)."""
        with store_errors():
            await self._feeds.replace_one({"_id": state.id}, _document(state), upsert=True)

    async def subscribe(self, state: FeedState) -> None:
        """Write a (re)subscription's fields; a new feed gets the rest of ``state`` too."""
        document = _document(state)
        own = {field: document.pop(field) for field in SUBSCRIPTION_FIELDS}
        del document["_id"]
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
        with store_errors():
            await self._feeds.update_one({"_id": after.id}, update)

    async def count_published(self, feed_id: str, articles: int) -> None:
        """Add to the feed's published count (a feed deleted meanwhile stays deleted)."""
        with store_errors():
            await self._feeds.update_one(
                {"_id": feed_id}, {"$inc": {"articles_published": articles}}
            )

    async def delete(self, feed_id: str) -> bool:
        with store_errors():
            return (await self._feeds.delete_one({"_id": feed_id})).deleted_count == 1

    async def all(self) -> list[FeedState]:
        """Every feed (a scan: call it on rebalance, never per poll)."""
        with store_errors():
            return [_state(d) async for d in self._feeds.find({})]


class ArticleVersions:
    """Which version of each article was last published, to drop exact repeats.

    Feed entries are remembered by their link's id with a hash of the entry, so an entry
    seen again unchanged is skipped without fetching its page (its article may live under
    another URL, the page's canonical one).
    """

    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._articles = database[VERSIONS_COLLECTION]
        self._entries = database[ENTRIES_COLLECTION]

    async def entry_hash(self, entry_id: str) -> str | None:
        with store_errors():
            document = await self._entries.find_one({"_id": entry_id}, projection={"entry_hash": 1})
        return document.get("entry_hash") if document else None

    async def remember_entry(
        self, entry_id: str, *, entry_hash: str, article_id: str, now: datetime
    ) -> None:
        with store_errors():
            await self._entries.replace_one(
                {"_id": entry_id},
                {"entry_hash": entry_hash, "article_id": article_id, "seen_at": now},
                upsert=True,
            )

    async def last_published(self, article_id: str) -> PublishedVersion | None:
        with store_errors():
            document = await self._articles.find_one(
                {"_id": article_id}, projection={"version": 1, "content_hash": 1}
            )
        if document is None:
            return None
        return PublishedVersion(version=document["version"], content_hash=document["content_hash"])

    async def remember(
        self,
        article_id: str,
        *,
        url: str,
        content_hash: str,
        version: int,
        now: datetime,
    ) -> None:
        """Record a sighting; call it after the article is published, never before."""
        fields: dict[str, Any] = {
            "url": url,
            "content_hash": content_hash,
            "version": version,
            "last_seen": now,
        }
        with store_errors():
            await self._articles.update_one(
                {"_id": article_id}, {"$set": fields, "$inc": {"sightings": 1}}, upsert=True
            )
