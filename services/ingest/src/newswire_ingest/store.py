"""The MongoDB collections ingest owns: feed state and the versions of articles seen.

Every read and write is by ``_id`` (the only lookup FerretDB 1.24 serves from an index),
except ``FeedStore.all``, which scans and runs only when partitions are (re)assigned.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from newswire_contracts.readmodel import FEED_STATUS_COLLECTION
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pymongo.asynchronous.database import AsyncDatabase

__all__ = ["ArticleVersions", "FeedState", "FeedStore", "Sighting"]

# FeedState documents are what the gateway reads as newswire_contracts.readmodel.FeedStatus.
FEEDS_COLLECTION = FEED_STATUS_COLLECTION
VERSIONS_COLLECTION = "ingest_articles"
ENTRIES_COLLECTION = "ingest_entries"


class FeedState(BaseModel):
    """One subscribed feed: where it is, how polling it went, when it is next due."""

    model_config = ConfigDict(extra="ignore")

    id: str
    url: str
    title: str | None = None
    poll_interval_seconds: int | None = Field(default=None, description="Fixed interval, if set.")
    partition: int = Field(description="Partition of ingest.requests its commands arrive on.")
    subscribed_at: AwareDatetime
    next_fetch_at: AwareDatetime
    interval_seconds: int = Field(description="The interval in force (adaptive or fixed).")
    etag: str | None = None
    last_modified: str | None = None
    last_fetch_at: AwareDatetime | None = None
    last_success_at: AwareDatetime | None = None
    last_status: int | None = Field(default=None, description="HTTP status of the last fetch.")
    last_error: str | None = None
    error_count: int = Field(default=0, description="Consecutive failed polls.")
    entries_seen: int = Field(default=0, description="Entries read over all polls.")
    articles_published: int = 0
    last_entry_error: str | None = None
    warnings: list[str] = Field(default_factory=list)
    feed_title: str | None = None
    site_url: str | None = None
    recent_entry_times: list[AwareDatetime] = Field(
        default_factory=list,
        description="Publication times of the latest entries (adaptive interval).",
    )

    def document(self) -> dict[str, Any]:
        data = self.model_dump(mode="python")
        data["_id"] = data.pop("id")
        return data

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> FeedState:
        return cls.model_validate({**document, "id": document["_id"]})


# Who writes which fields. A subscription command and a poll of the same feed can overlap
# (both run in the feed's owner); each writes only its own fields, and the counts are added
# rather than set, so neither undoes the other's title, status or counts. The schedule
# (next_fetch_at, interval_seconds) is written by both: the last write wins, and the next
# poll's sets it right again.
SUBSCRIPTION_FIELDS = (
    "url",
    "title",
    "poll_interval_seconds",
    "partition",
    "next_fetch_at",
    "interval_seconds",
)
POLL_FIELDS = (
    "last_fetch_at",
    "last_status",
    "last_success_at",
    "last_error",
    "error_count",
    "etag",
    "last_modified",
    "last_entry_error",
    "warnings",
    "feed_title",
    "site_url",
    "recent_entry_times",
    "next_fetch_at",
    "interval_seconds",
)
POLL_COUNTS = ("entries_seen", "articles_published")


class FeedStore:
    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._feeds = database[FEEDS_COLLECTION]

    async def get(self, feed_id: str) -> FeedState | None:
        document = await self._feeds.find_one({"_id": feed_id})
        return FeedState.from_document(document) if document else None

    async def save(self, state: FeedState) -> None:
        """Write the whole state (tests and tools; the service writes by ``subscribe`` and
        ``record_poll``)."""
        await self._feeds.replace_one({"_id": state.id}, state.document(), upsert=True)

    async def subscribe(self, state: FeedState) -> None:
        """Write a (re)subscription's fields; a new feed gets the rest of ``state`` too."""
        document = state.document()
        own = {field: document.pop(field) for field in SUBSCRIPTION_FIELDS}
        del document["_id"]
        await self._feeds.update_one(
            {"_id": state.id}, {"$set": own, "$setOnInsert": document}, upsert=True
        )

    async def record_poll(self, before: FeedState, after: FeedState) -> None:
        """Write what a poll changed, from the state it started with to ``after``.

        A feed deleted meanwhile stays deleted.
        """
        document = after.document()
        update: dict[str, Any] = {"$set": {field: document[field] for field in POLL_FIELDS}}
        added = {f: getattr(after, f) - getattr(before, f) for f in POLL_COUNTS}
        if any(added.values()):
            update["$inc"] = {f: n for f, n in added.items() if n}
        await self._feeds.update_one({"_id": after.id}, update)

    async def count_published(self, feed_id: str, articles: int) -> None:
        """Add to the feed's published count (a feed deleted meanwhile stays deleted)."""
        await self._feeds.update_one({"_id": feed_id}, {"$inc": {"articles_published": articles}})

    async def delete(self, feed_id: str) -> bool:
        return (await self._feeds.delete_one({"_id": feed_id})).deleted_count == 1

    async def all(self) -> list[FeedState]:
        """Every feed (a scan: call it on rebalance, never per poll)."""
        return [FeedState.from_document(d) async for d in self._feeds.find({})]


class Sighting(BaseModel):
    """What ingest knows about one article it has published."""

    outcome: Literal["new", "changed", "unchanged"]
    version: int


class ArticleVersions:
    """Which version of each article was last published, to drop exact repeats.

    A repeat is the same canonical URL with the same content hash; changed content is a
    new version. Feed entries are remembered by their link's id with a hash of the entry,
    so an entry seen again unchanged is skipped without fetching its page (its article may
    live under another URL, the page's canonical one).
    """

    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._articles = database[VERSIONS_COLLECTION]
        self._entries = database[ENTRIES_COLLECTION]

    async def entry_hash(self, entry_id: str) -> str | None:
        document = await self._entries.find_one({"_id": entry_id}, projection={"entry_hash": 1})
        return document.get("entry_hash") if document else None

    async def remember_entry(
        self, entry_id: str, *, entry_hash: str, article_id: str, now: datetime
    ) -> None:
        await self._entries.replace_one(
            {"_id": entry_id},
            {"entry_hash": entry_hash, "article_id": article_id, "seen_at": now},
            upsert=True,
        )

    async def classify(self, article_id: str, content_hash: str) -> Sighting:
        document = await self._articles.find_one(
            {"_id": article_id}, projection={"version": 1, "content_hash": 1}
        )
        if document is None:
            return Sighting(outcome="new", version=1)
        if document["content_hash"] == content_hash:
            return Sighting(outcome="unchanged", version=document["version"])
        return Sighting(outcome="changed", version=document["version"] + 1)

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
        await self._articles.update_one(
            {"_id": article_id}, {"$set": fields, "$inc": {"sightings": 1}}, upsert=True
        )

    async def get(self, article_id: str) -> dict[str, Any] | None:
        return await self._articles.find_one({"_id": article_id})
