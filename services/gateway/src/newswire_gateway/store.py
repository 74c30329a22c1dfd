"""What the gateway reads (articles, feed status) and the feed registrations it owns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from newswire_contracts.readmodel import (
    ALIASES_COLLECTION,
    ARTICLES_COLLECTION,
    FEED_STATUS_COLLECTION,
    LISTING_INDEXES,
    STORIES_COLLECTION,
    FeedStatus,
    StoredArticle,
    StoredStory,
)
from pydantic import AwareDatetime, BaseModel, ConfigDict
from pymongo.asynchronous.database import AsyncDatabase

from .article_cache import ArticleCache

__all__ = ["ArticleQuery", "ArticleReader", "FeedRegistration", "FeedRegistry", "StoryReader"]

FEEDS_COLLECTION = "feeds"


@dataclass(frozen=True)
class ArticleQuery:
    """GET /v1/articles filters; every value is a plain string or time, never an operator."""

    source: str | None = None
    entity: str | None = None
    language: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    terms: tuple[str, ...] = ()

    def filter(self) -> dict[str, Any]:
        query: dict[str, Any] = {}
        if self.source is not None:
            query["source"] = self.source
        if self.language is not None:
            query["language"] = self.language
        if self.entity is not None:
            query["entity_names"] = self.entity.casefold()
        if self.terms:
            query["search_terms"] = {"$all": list(self.terms)}
        window: dict[str, datetime] = {}
        if self.since is not None:
            window["$gte"] = self.since
        if self.until is not None:
            window["$lt"] = self.until
        if window:
            query["sort_time"] = window
        return query


_LISTED_FIELDS = {"text": 0, "related": 0, "search_terms": 0, "key_points": 0}


class ArticleReader:
    """Articles by id (served from the _id index everywhere) and filtered listings (served by
    LISTING_INDEXES on MongoDB; scans on FerretDB 1.24)."""

    def __init__(
        self, database: AsyncDatabase[dict[str, Any]], cache: ArticleCache | None = None
    ) -> None:
        self._articles = database[ARTICLES_COLLECTION]
        self._aliases = database[ALIASES_COLLECTION]
        self.cache = cache

    async def create_indexes(self) -> None:
        for name, keys in LISTING_INDEXES.items():
            await self._articles.create_index(keys, name=name)

    async def list(
        self, query: ArticleQuery, limit: int, after: tuple[datetime, str] | None
    ) -> list[dict[str, Any]]:
        """Newest first (by publication, else ingestion time), after the keyset ``after``."""
        conditions = [query.filter()]
        if after is not None:
            moment, article_id = after
            conditions.append(
                {
                    "$or": [
                        {"sort_time": {"$lt": moment}},
                        {"sort_time": moment, "_id": {"$lt": article_id}},
                    ]
                }
            )
        mongo_filter = conditions[0] if len(conditions) == 1 else {"$and": conditions}
        cursor = (
            self._articles.find(mongo_filter, projection=_LISTED_FIELDS)
            .sort([("sort_time", -1), ("_id", -1)])
            .limit(limit)
        )
        return [document async for document in cursor]

    async def get(self, article_id: str) -> StoredArticle | None:
        """The article with this id, or the one this id is an alias of (e.g. the id of a
        submitted URL whose page named another canonical URL); from the cache if it has it."""
        if self.cache is None:
            return await self._read(article_id)
        found = self.cache.get(article_id)
        if found is None:
            read_at = self.cache.epoch
            found = await self._read(article_id)
            if found is not None and found.id == article_id:  # aliases are not cached
                self.cache.put(found, read_at)
        return found

    def rendered(
        self, article: StoredArticle, render: Callable[[StoredArticle], bytes], variant: str = ""
    ) -> bytes:
        """``render(article)``, computed once per cached copy of the article and ``variant``
        (one response shape) when the cache is on."""
        if self.cache is None:
            return render(article)
        return self.cache.body(article, render, variant)

    async def _read(self, article_id: str) -> StoredArticle | None:
        document = await self._articles.find_one({"_id": article_id})
        if document is None:
            alias = await self._aliases.find_one({"_id": article_id})
            if alias is not None:
                document = await self._articles.find_one({"_id": alias["article_id"]})
        return StoredArticle.from_document(document) if document else None


class FeedRegistration(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    url: str
    title: str | None
    poll_interval_seconds: int | None
    created_at: AwareDatetime
    updated_at: AwareDatetime


class FeedRegistry:
    """Feed registrations (the gateway owns them) and their polling status (ingest's)."""

    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._feeds = database[FEEDS_COLLECTION]
        self._status = database[FEED_STATUS_COLLECTION]

    async def register(
        self,
        feed_id: str,
        *,
        url: str,
        title: str | None,
        poll_interval_seconds: int | None,
        now: datetime,
    ) -> tuple[FeedRegistration, bool]:
        """Create or update a registration; True when it is new."""
        existing = await self.get(feed_id)
        registration = FeedRegistration(
            id=feed_id,
            url=url,
            title=title if title is not None else (existing.title if existing else None),
            poll_interval_seconds=poll_interval_seconds,
            created_at=existing.created_at if existing else now,
            updated_at=now,
        )
        document = registration.model_dump()
        document["_id"] = document.pop("id")
        await self._feeds.replace_one({"_id": feed_id}, document, upsert=True)
        return registration, existing is None

    async def get(self, feed_id: str) -> FeedRegistration | None:
        document = await self._feeds.find_one({"_id": feed_id})
        return (
            FeedRegistration.model_validate({**document, "id": document["_id"]})
            if document
            else None
        )

    async def delete(self, feed_id: str) -> bool:
        return (await self._feeds.delete_one({"_id": feed_id})).deleted_count == 1

    async def all(self) -> list[FeedRegistration]:
        """Every registration, oldest first (a scan; feed lists are short)."""
        documents = [d async for d in self._feeds.find({})]
        registrations = [FeedRegistration.model_validate({**d, "id": d["_id"]}) for d in documents]
        return sorted(registrations, key=lambda r: (r.created_at, r.id))

    async def status(self, feed_id: str) -> FeedStatus | None:
        document = await self._status.find_one({"_id": feed_id})
        return FeedStatus.from_document(document) if document else None


class StoryReader:
    """Stories (written by relate): one by id, or the latest, newest first."""

    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._stories = database[STORIES_COLLECTION]

    async def get(self, story_id: str) -> StoredStory | None:
        """The story, or the one it merged into."""
        for _ in range(5):  # merges chain rarely; never loop forever on bad data
            document = await self._stories.find_one({"_id": story_id})
            if document is None:
                return None
            story = StoredStory.from_document(document)
            if story.merged_into is None:
                return story
            story_id = story.merged_into
        return None

    async def create_indexes(self) -> None:
        await self._stories.create_index([("last_seen", -1), ("_id", -1)], name="latest")

    async def latest(self, limit: int, before: tuple[datetime, str] | None) -> list[StoredStory]:
        """Stories by last article, newest first, after the cursor position ``before``.

        MongoDB serves this from the index on (last_seen, _id) created at start-up;
        FerretDB 1.24 scans.
        """
        query: dict[str, Any] = {"merged_into": None}
        if before is not None:
            last_seen, story_id = before
            query["$or"] = [
                {"last_seen": {"$lt": last_seen}},
                {"last_seen": last_seen, "_id": {"$lt": story_id}},
            ]
        cursor = self._stories.find(query).sort([("last_seen", -1), ("_id", -1)]).limit(limit)
        stories = [StoredStory.from_document(d) async for d in cursor]
        return [s.model_copy(update={"articles": s.articles[:5]}) for s in stories]
